//! A TCP listener that bounds connections: in total, and per client address. Past the total
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
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The listener.
pub struct Limited {
    inner: TcpListener,
    total: Arc<Semaphore>,
    per_ip: usize,
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Limited {
    /// Wraps `inner`, allowing `total` connections at once and `per_ip` from one address.
    pub fn new(inner: TcpListener, total: usize, per_ip: usize) -> Self {
        Limited {
            inner,
            total: Arc::new(Semaphore::new(total.max(1))),
            per_ip: per_ip.max(1),
            counts: Arc::default(),
        }
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

/// A connection that holds its slots while open.
pub struct LimitedIo {
    inner: TcpStream,
    _total: OwnedSemaphorePermit,
    _ip: IpSlot,
}

impl axum::serve::Listener for Limited {
    type Io = LimitedIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (LimitedIo, SocketAddr) {
        loop {
            let permit = Arc::clone(&self.total)
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let (stream, addr) = match self.inner.accept().await {
                Ok(x) => x,
                Err(_) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
            };
            let ip = addr.ip();
            {
                let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
                let n = c.entry(ip).or_insert(0);
                if *n >= self.per_ip {
                    continue; // drops the stream: this client has too many connections
                }
                *n += 1;
            }
            let _ = stream.set_nodelay(true);
            let slot = IpSlot {
                ip,
                counts: Arc::clone(&self.counts),
            };
            return (
                LimitedIo {
                    inner: stream,
                    _total: permit,
                    _ip: slot,
                },
                addr,
            );
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl AsyncRead for LimitedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for LimitedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
