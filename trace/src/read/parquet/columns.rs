//! Typed views of one record batch's columns, accepting the encodings other tools write (any
//! of int32/int64/uint32/uint64 for integers; plain, large, view or dictionary strings; lists,
//! large lists or maps for clocks), so that a row is read with plain indexing and no copy.

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, UInt32Type, UInt64Type};
use arrow_array::{
    Array, Int32Array, Int64Array, LargeStringArray, PrimitiveArray, StringArray, StringViewArray,
    StructArray, UInt32Array, UInt64Array,
};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType;

use crate::intern::{LocalInterner, Sym};

/// An integer column.
pub(super) enum Ints<'a> {
    I32(&'a Int32Array),
    I64(&'a Int64Array),
    U32(&'a UInt32Array),
    U64(&'a UInt64Array),
}

impl<'a> Ints<'a> {
    /// Whether columns of `t` are read as integers.
    pub fn accepts(t: &DataType) -> bool {
        matches!(
            t,
            DataType::Int32 | DataType::Int64 | DataType::UInt32 | DataType::UInt64
        )
    }

    /// A view of `a` (of a type [`Ints::accepts`]).
    pub fn new(a: &'a dyn Array) -> Option<Self> {
        Some(match a.data_type() {
            DataType::Int32 => Ints::I32(a.as_primitive::<Int32Type>()),
            DataType::Int64 => Ints::I64(a.as_primitive::<Int64Type>()),
            DataType::UInt32 => Ints::U32(a.as_primitive::<UInt32Type>()),
            DataType::UInt64 => Ints::U64(a.as_primitive::<UInt64Type>()),
            _ => return None,
        })
    }

    /// Row `i`, `None` when null; wide enough for every type's values.
    #[inline]
    pub fn get(&self, i: usize) -> Option<i128> {
        fn at<T: arrow_array::ArrowPrimitiveType>(
            a: &PrimitiveArray<T>,
            i: usize,
        ) -> Option<T::Native> {
            a.is_valid(i).then(|| a.value(i))
        }
        match self {
            Ints::I32(a) => at(a, i).map(i128::from),
            Ints::I64(a) => at(a, i).map(i128::from),
            Ints::U32(a) => at(a, i).map(i128::from),
            Ints::U64(a) => at(a, i).map(i128::from),
        }
    }
}

/// A column of strings without a dictionary.
enum Plain<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
}

impl<'a> Plain<'a> {
    fn new(a: &'a dyn Array) -> Option<Self> {
        Some(match a.data_type() {
            DataType::Utf8 => Plain::Utf8(a.as_string::<i32>()),
            DataType::LargeUtf8 => Plain::Large(a.as_string::<i64>()),
            DataType::Utf8View => Plain::View(a.as_string_view()),
            _ => return None,
        })
    }

    #[inline]
    fn value(&self, i: usize) -> &'a str {
        match self {
            Plain::Utf8(a) => a.value(i),
            Plain::Large(a) => a.value(i),
            Plain::View(a) => a.value(i),
        }
    }

    fn len(&self) -> usize {
        match self {
            Plain::Utf8(a) => a.len(),
            Plain::Large(a) => a.len(),
            Plain::View(a) => a.len(),
        }
    }
}

/// A string column, dictionary-encoded or not.
pub(super) struct Strs<'a> {
    nulls: Option<NullBuffer>,
    /// Dictionary keys (normalized to indices into `values`), when dictionary-encoded.
    keys: Option<Vec<usize>>,
    values: Plain<'a>,
    /// Interned dictionary values, filled as they are met ([`Strs::sym`]).
    syms: Vec<Option<Sym>>,
}

impl<'a> Strs<'a> {
    /// Whether columns of `t` are read as strings.
    pub fn accepts(t: &DataType) -> bool {
        match t {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
            DataType::Dictionary(k, v) => {
                k.is_integer() && matches!(**v, DataType::Utf8 | DataType::LargeUtf8)
            }
            _ => false,
        }
    }

    /// A view of `a` (of a type [`Strs::accepts`]).
    pub fn new(a: &'a dyn Array) -> Option<Self> {
        if let Some(d) = a.as_any_dictionary_opt() {
            let values = Plain::new(d.values().as_ref())?;
            // An empty dictionary (a column of nulls only) has no key to normalize.
            let keys = if values.len() == 0 {
                vec![usize::MAX; a.len()]
            } else {
                d.normalized_keys()
            };
            return Some(Strs {
                nulls: a.logical_nulls(),
                keys: Some(keys),
                syms: vec![None; values.len()],
                values,
            });
        }
        Some(Strs {
            nulls: a.logical_nulls(),
            keys: None,
            values: Plain::new(a)?,
            syms: Vec::new(),
        })
    }

    /// Row `i`, `None` when null.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&'a str> {
        if self.nulls.as_ref().is_some_and(|n| n.is_null(i)) {
            return None;
        }
        match &self.keys {
            // A key past an empty dictionary: no value (only null rows have one).
            Some(k) if k[i] == usize::MAX => None,
            Some(k) => Some(self.values.value(k[i])),
            None => Some(self.values.value(i)),
        }
    }

    /// Row `i` interned (each dictionary value once per batch), with its length in bytes;
    /// `None` when null.
    #[inline]
    pub fn sym(&mut self, i: usize, interner: &mut LocalInterner) -> Option<(Sym, usize)> {
        let s = self.get(i)?;
        let Some(keys) = &self.keys else {
            return Some((interner.intern(s), s.len()));
        };
        let k = keys[i];
        if k == usize::MAX {
            return None;
        }
        let sym = *self.syms[k].get_or_insert_with(|| interner.intern(s));
        Some((sym, s.len()))
    }
}

/// A list column of (string, integer) pairs: `vc` or `parents`.
pub(super) struct Pairs<'a> {
    nulls: Option<NullBuffer>,
    offsets: Vec<usize>,
    pub names: Strs<'a>,
    pub numbers: Ints<'a>,
}

impl<'a> Pairs<'a> {
    /// The struct inside a list, large list or map type, if `t` is one.
    fn entries(t: &DataType) -> Option<&arrow_schema::Fields> {
        let item = match t {
            DataType::List(f) | DataType::LargeList(f) | DataType::Map(f, _) => f,
            _ => return None,
        };
        match item.data_type() {
            DataType::Struct(fields) => Some(fields),
            _ => None,
        }
    }

    /// The positions of the name and number children: by `names` for a list (`replica` and
    /// `counter` or `seq`), the key and value of a map.
    fn children(t: &DataType, number: &str) -> Option<(usize, usize)> {
        let fields = Self::entries(t)?;
        if matches!(t, DataType::Map(..)) {
            return (fields.len() == 2).then_some((0, 1));
        }
        let at = |n: &str| fields.iter().position(|f| f.name() == n);
        Some((at("replica")?, at(number)?))
    }

    /// Whether columns of `t` are read as pairs whose number child is named `number`.
    pub fn accepts(t: &DataType, number: &str) -> bool {
        let Some((a, b)) = Self::children(t, number) else {
            return false;
        };
        let fields = Self::entries(t).expect("checked by children");
        Strs::accepts(fields[a].data_type()) && Ints::accepts(fields[b].data_type())
    }

    /// A view of `a` (of a type [`Pairs::accepts`] with the same `number`).
    pub fn new(a: &'a dyn Array, number: &str) -> Option<Self> {
        let (n, v) = Self::children(a.data_type(), number)?;
        let (offsets, entries): (Vec<usize>, &StructArray) = match a.data_type() {
            DataType::List(_) => {
                let l = a.as_list::<i32>();
                let o = l.value_offsets().iter().map(|&x| x as usize).collect();
                (o, l.values().as_struct())
            }
            DataType::LargeList(_) => {
                let l = a.as_list::<i64>();
                let o = l.value_offsets().iter().map(|&x| x as usize).collect();
                (o, l.values().as_struct())
            }
            DataType::Map(..) => {
                let m = a.as_map();
                let o = m.value_offsets().iter().map(|&x| x as usize).collect();
                (o, m.entries())
            }
            _ => return None,
        };
        Some(Pairs {
            nulls: a.logical_nulls(),
            offsets,
            names: Strs::new(entries.column(n).as_ref())?,
            numbers: Ints::new(entries.column(v).as_ref())?,
        })
    }

    /// The entries of row `i` (indices into `names` and `numbers`), `None` when null.
    #[inline]
    pub fn range(&self, i: usize) -> Option<std::ops::Range<usize>> {
        if self.nulls.as_ref().is_some_and(|n| n.is_null(i)) {
            return None;
        }
        Some(self.offsets[i]..self.offsets[i + 1])
    }
}
