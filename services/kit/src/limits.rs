//! Limits on the connections of a port, so that idle or abusive clients cannot use up the
//! process's file descriptors and starve everyone else: a cap on open connections (past it a
//! new connection is accepted and closed at once), TCP keepalive on every accepted socket,
//! HTTP/2 keepalive pings and stream limits (applied by [`crate::serve`]), and
//! [`raise_descriptor_limit`], which a binary calls once at start (the gateway too).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::transport::server::Connected;

/// How many connections and streams a gRPC port takes, and how it keeps them honest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open connections at most; past it a new connection is closed as soon as it is accepted.
    pub max_connections: usize,
    /// Concurrent HTTP/2 streams (calls) one connection may open.
    pub max_concurrent_streams: u32,
    /// Calls of one connection served at once; more wait their turn.
    pub concurrency_per_connection: usize,
    /// How often an HTTP/2 ping checks a connection's peer.
    pub http2_keepalive_interval: Duration,
    /// How long a ping's answer may take before the connection is closed.
    pub http2_keepalive_timeout: Duration,
    /// Idle time before TCP keepalive probes start on an accepted socket.
    pub tcp_keepalive: Duration,
    /// How long a new connection may stay silent: one that has sent no byte by then is closed,
    /// so sockets that never speak cannot hold the places under the cap.
    pub first_byte_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 4096,
            max_concurrent_streams: 1024,
            concurrency_per_connection: 1024,
            http2_keepalive_interval: Duration::from_secs(30),
            http2_keepalive_timeout: Duration::from_secs(10),
            tcp_keepalive: Duration::from_secs(60),
            first_byte_timeout: Duration::from_secs(10),
        }
    }
}

/// Accepted connections of a listener, at most `max_connections` open at once, with
/// TCP_NODELAY (gRPC sends small frames, and without it every response waits out the peer's
/// delayed ACK, about 40 ms on Linux) and TCP keepalive set. An accept error (out of
/// descriptors) pauses accepting briefly instead of spinning.
pub struct CappedIncoming {
    listener: TcpListener,
    permits: Arc<Semaphore>,
    max: usize,
    keepalive: socket2::TcpKeepalive,
    first_byte_timeout: Duration,
    name: &'static str,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
    last_warned: Option<Instant>,
}

impl CappedIncoming {
    /// Connections of `listener` under `limits`; `name` labels the log lines.
    pub fn new(listener: TcpListener, name: &'static str, limits: &ConnectionLimits) -> CappedIncoming {
        let max = limits.max_connections.max(1);
        CappedIncoming {
            listener,
            permits: Arc::new(Semaphore::new(max)),
            max,
            keepalive: socket2::TcpKeepalive::new().with_time(limits.tcp_keepalive),
            first_byte_timeout: limits.first_byte_timeout,
            name,
            pause: None,
            last_warned: None,
        }
    }

    fn warn_refused(&mut self) {
        // One line a second at most: a flood of connections must not become a flood of logs.
        let now = Instant::now();
        if self
            .last_warned
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1))
        {
            self.last_warned = Some(now);
            tracing::warn!(
                service = self.name,
                max_connections = self.max,
                "connection cap reached; closing new connections"
            );
        }
    }
}

impl tokio_stream::Stream for CappedIncoming {
    type Item = std::io::Result<CappedStream>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(pause) = this.pause.as_mut() {
                if pause.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.pause = None;
            }
            let stream = match this.listener.poll_accept(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok((stream, _))) => stream,
                Poll::Ready(Err(e)) => {
                    tracing::warn!(service = this.name, error = %e, "accept failed; pausing accepts");
                    this.pause = Some(Box::pin(tokio::time::sleep(Duration::from_millis(50))));
                    continue;
                }
            };
            let Ok(permit) = this.permits.clone().try_acquire_owned() else {
                drop(stream);
                this.warn_refused();
                continue;
            };
            if let Err(e) = stream.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY");
            }
            if let Err(e) = socket2::SockRef::from(&stream).set_tcp_keepalive(&this.keepalive) {
                tracing::debug!(error = %e, "cannot set TCP keepalive");
            }
            return Poll::Ready(Some(Ok(CappedStream {
                inner: stream,
                silent_until: Some(Box::pin(tokio::time::sleep(this.first_byte_timeout))),
                _permit: permit,
            })));
        }
    }
}

/// An accepted connection holding its place under the cap until it closes; closed with
/// `TimedOut` if its peer sends nothing before the first-byte deadline.
#[derive(Debug)]
pub struct CappedStream {
    inner: TcpStream,
    /// The first-byte deadline, until the first byte arrives.
    silent_until: Option<Pin<Box<tokio::time::Sleep>>>,
    _permit: OwnedSemaphorePermit,
}

impl Connected for CappedStream {
    type ConnectInfo = tonic::transport::server::TcpConnectInfo;
    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}

impl AsyncRead for CappedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let filled = buf.filled().len();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Some(deadline) = this.silent_until.as_mut() {
            match &read {
                Poll::Ready(Ok(())) if buf.filled().len() > filled => this.silent_until = None,
                Poll::Ready(_) => {}
                Poll::Pending => {
                    if deadline.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Err(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "the peer sent nothing before the first-byte deadline",
                        )));
                    }
                }
            }
        }
        read
    }
}

impl AsyncWrite for CappedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The descriptor limit after [`raise_descriptor_limit`]: the soft limit before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DescriptorLimit {
    pub before: u64,
    pub after: u64,
}

/// Raises the process's open-file soft limit to its hard limit (where the OS allows), so the
/// connection caps, not the default soft limit of 1024, decide how many clients a process
/// holds. Call once at start; logs the outcome. `None` where the limit cannot be read.
pub fn raise_descriptor_limit() -> Option<DescriptorLimit> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let current = getrlimit(Resource::Nofile);
        let before = current.current?;
        let target = current.maximum.unwrap_or(u64::MAX);
        // macOS refuses RLIM_INFINITY for descriptors; stay at the kernel's own ceiling there.
        #[cfg(target_os = "macos")]
        let target = target.min(10_240);
        if target <= before {
            return Some(DescriptorLimit { before, after: before });
        }
        let wanted = rustix::process::Rlimit {
            current: Some(target),
            maximum: current.maximum,
        };
        match setrlimit(Resource::Nofile, wanted) {
            Ok(()) => {
                tracing::info!(before, after = target, "raised the open-file limit");
                Some(DescriptorLimit { before, after: target })
            }
            Err(e) => {
                tracing::warn!(before, wanted = target, error = %e, "cannot raise the open-file limit");
                Some(DescriptorLimit { before, after: before })
            }
        }
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A listener's accepted streams under `limits`, echoing what they read.
    async fn echo(limits: super::ConnectionLimits) -> std::net::SocketAddr {
        use tokio_stream::StreamExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut incoming = super::CappedIncoming::new(listener, "test", &limits);
        tokio::spawn(async move {
            while let Some(Ok(mut stream)) = incoming.next().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_connection_that_sends_nothing_is_closed_at_the_first_byte_deadline() {
        let limits = super::ConnectionLimits {
            first_byte_timeout: Duration::from_millis(300),
            ..Default::default()
        };
        let addr = echo(limits).await;
        let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut talking = tokio::net::TcpStream::connect(addr).await.unwrap();
        talking.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 5];
        talking.read_exact(&mut buf).await.unwrap();
        // The silent one is closed by the server, well before this test's own limit.
        let mut one = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(10), silent.read(&mut one))
            .await
            .expect("a silent connection is still open past its deadline");
        assert!(matches!(read, Ok(0) | Err(_)), "closed, not answered: {read:?}");
        // The one that spoke stays open past the deadline.
        tokio::time::sleep(Duration::from_millis(500)).await;
        talking.write_all(b"again").await.unwrap();
        talking.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"again");
    }

    #[cfg(unix)]
    #[test]
    fn a_low_soft_descriptor_limit_is_raised_to_the_hard_limit() {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let before = getrlimit(Resource::Nofile);
        // Start from a low soft limit, as many systems do (1024).
        if let Some(maximum) = before.maximum {
            setrlimit(
                Resource::Nofile,
                Rlimit {
                    current: Some(maximum.min(1024) / 2),
                    maximum: Some(maximum),
                },
            )
            .expect("lowering the soft limit is always allowed");
        }
        let limit = super::raise_descriptor_limit().expect("readable limit");
        assert!(limit.after > limit.before, "{limit:?}");
        let now = getrlimit(Resource::Nofile);
        assert_eq!(now.current, Some(limit.after));
        assert_eq!(
            now.current,
            before.maximum.or(before.current),
            "the soft limit is the hard limit"
        );
    }
}
