//! A TCP (optionally TLS) listener that bounds connections: in total, and per client address. Past the total
//! limit `accept` waits (the kernel backlog holds new clients); a client over its own limit is
//! disconnected at once, so one noisy replica cannot starve the others.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;

/// The listener. Accepting (and, with TLS, handshaking) runs in a background task that hands
/// ready connections over a small channel.
pub struct Limited {
    ready: mpsc::Receiver<(LimitedIo, SocketAddr)>,
    local: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Limited {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Limited {
    /// Wraps `inner`, allowing `total` connections at once and `per_ip` from one address, with
    /// TLS when `tls` is given. Must be called inside a tokio runtime.
    pub fn new(
        inner: TcpListener,
        total: usize,
        per_ip: usize,
        tls: Option<TlsAcceptor>,
    ) -> io::Result<Self> {
        let local = inner.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let total = Arc::new(Semaphore::new(total.max(1)));
        let per_ip = per_ip.max(1);
        let counts: Arc<Mutex<HashMap<IpAddr, usize>>> = Arc::default();
        let task = tokio::spawn(async move {
            loop {
                let Ok(permit) = Arc::clone(&total).acquire_owned().await else {
                    return;
                };
                let (stream, addr) = match inner.accept().await {
                    Ok(x) => x,
                    Err(_) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let ip = addr.ip();
                {
                    let mut c = counts.lock().unwrap_or_else(|p| p.into_inner());
                    let n = c.entry(ip).or_insert(0);
                    if *n >= per_ip {
                        continue; // drops the stream: this client has too many connections
                    }
                    *n += 1;
                }
                let _ = stream.set_nodelay(true);
                let slot = IpSlot {
                    ip,
                    counts: Arc::clone(&counts),
                };
                match &tls {
                    None => {
                        let io = LimitedIo {
                            conn: Conn::Plain(stream),
                            _total: permit,
                            _ip: slot,
                        };
                        if tx.send((io, addr)).await.is_err() {
                            return;
                        }
                    }
                    Some(acceptor) => {
                        let (acceptor, tx) = (acceptor.clone(), tx.clone());
                        tokio::spawn(async move {
                            if let Ok(tls) = crate::tls::handshake(&acceptor, stream).await {
                                let io = LimitedIo {
                                    conn: Conn::Tls(Box::new(tls)),
                                    _total: permit,
                                    _ip: slot,
                                };
                                let _ = tx.send((io, addr)).await;
                            }
                        });
                    }
                }
            }
        });
        Ok(Limited { ready, local, task })
    }
}

/// Gives a per-address slot back when its connection closes.
struct IpSlot {
    ip: IpAddr,
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = c.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                c.remove(&self.ip);
            }
        }
    }
}

enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

/// A connection that holds its slots while open.
pub struct LimitedIo {
    conn: Conn,
    _total: OwnedSemaphorePermit,
    _ip: IpSlot,
}

impl axum::serve::Listener for Limited {
    type Io = LimitedIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (LimitedIo, SocketAddr) {
        match self.ready.recv().await {
            Some(x) => x,
            // The accept task is gone (only when the listener is being dropped): wait forever,
            // as a listener with nothing more to accept does.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match &mut $self.conn {
            Conn::Plain($s) => {
                let $s = Pin::new($s);
                $e
            }
            Conn::Tls($s) => {
                let $s = Pin::new($s.as_mut());
                $e
            }
        }
    };
}

impl AsyncRead for LimitedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for LimitedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write(cx, buf))
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_flush(cx))
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_shutdown(cx))
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write_vectored(cx, bufs))
    }
    fn is_write_vectored(&self) -> bool {
        match &self.conn {
            Conn::Plain(s) => s.is_write_vectored(),
            Conn::Tls(s) => s.is_write_vectored(),
        }
    }
}
