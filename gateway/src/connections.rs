//! What the gateway knows of its connections, so that no client can hold it: how many are
//! open (in all and per peer address, refused past the caps at accept), what each is doing
//! (bytes read, requests in progress, a write waiting on a client that does not read), the
//! requests in flight across all of them, and the phase of a shutdown.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, watch};

/// Where a shutdown has got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Serving,
    /// Accepted requests finish; new ones are answered 503 with `Connection: close`, and
    /// HTTP/2 connections are sent GOAWAY.
    Draining,
    /// Every connection is told to close.
    Stopping,
}

/// Every open connection and request of one gateway.
#[derive(Debug)]
pub struct Connections {
    max_total: usize,
    max_per_ip: usize,
    open: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    in_flight: AtomicUsize,
    /// Woken when the last request in flight finishes and when a connection closes.
    changed: Notify,
    phase: watch::Sender<Phase>,
    started: Instant,
}

impl Connections {
    /// No more than `max_total` connections, and `max_per_ip` from one address (0: no cap).
    pub fn new(max_total: usize, max_per_ip: usize) -> Arc<Connections> {
        Arc::new(Connections {
            max_total: max_total.max(1),
            max_per_ip,
            open: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
            in_flight: AtomicUsize::new(0),
            changed: Notify::new(),
            phase: watch::channel(Phase::Serving).0,
            started: Instant::now(),
        })
    }

    /// A place for a connection from `ip`, or None when a cap is reached.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Admission> {
        if self.open.fetch_add(1, Ordering::SeqCst) >= self.max_total {
            self.open.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        let ip = ip.to_canonical();
        if self.max_per_ip > 0 {
            let mut per_ip = self.per_ip.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let n = per_ip.entry(ip).or_insert(0);
            if *n >= self.max_per_ip {
                drop(per_ip);
                self.open.fetch_sub(1, Ordering::SeqCst);
                return None;
            }
            *n += 1;
        }
        Some(Admission {
            connections: self.clone(),
            ip,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Requests in flight now (until their response has been sent).
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Moves the shutdown on to `phase`.
    pub fn enter(&self, phase: Phase) {
        self.phase.send_replace(phase);
    }

    /// The phase now.
    pub fn phase(&self) -> Phase {
        *self.phase.borrow()
    }

    /// Follows the phase.
    pub fn watch_phase(&self) -> watch::Receiver<Phase> {
        self.phase.subscribe()
    }

    /// Completes once no request is in flight.
    pub async fn requests_done(&self) {
        loop {
            let changed = self.changed.notified();
            if self.in_flight() == 0 {
                return;
            }
            changed.await;
        }
    }

    /// Completes once no connection is open.
    pub async fn connections_closed(&self) {
        loop {
            let changed = self.changed.notified();
            if self.open() == 0 {
                return;
            }
            changed.await;
        }
    }

    /// Milliseconds since the gateway started, the clock of [`Activity`].
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// A connection's place under the caps, given back when it is dropped.
#[derive(Debug)]
pub struct Admission {
    connections: Arc<Connections>,
    ip: IpAddr,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let c = &self.connections;
        if c.max_per_ip > 0 {
            let mut per_ip = c.per_ip.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(n) = per_ip.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    per_ip.remove(&self.ip);
                }
            }
        }
        c.open.fetch_sub(1, Ordering::SeqCst);
        c.changed.notify_waiters();
    }
}

/// What one connection is doing, read by the task that watches it for timeouts.
#[derive(Debug)]
pub struct Activity {
    connections: Arc<Connections>,
    /// Whether any byte has arrived.
    pub read_any: AtomicBool,
    /// Whether it speaks HTTP/2 (known from its first request).
    pub h2: AtomicBool,
    /// Whether it closes after an answer to a request whose body was not read: then it
    /// closes lingering, reading what the client still sends for a moment.
    pub linger: AtomicBool,
    active: AtomicUsize,
    /// When the last request finished (or the connection opened), in [`Connections`] time.
    idle_since_ms: AtomicU64,
    /// Since when a write has been waiting for the client to read; `u64::MAX`: none is.
    write_blocked_since_ms: AtomicU64,
}

impl Activity {
    pub fn new(connections: &Arc<Connections>) -> Arc<Activity> {
        Arc::new(Activity {
            connections: connections.clone(),
            read_any: AtomicBool::new(false),
            h2: AtomicBool::new(false),
            linger: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(connections.now_ms()),
            write_blocked_since_ms: AtomicU64::new(u64::MAX),
        })
    }

    /// Counts a request from its head until its response has been sent (or dropped).
    pub fn request(self: &Arc<Self>) -> InFlight {
        self.active.fetch_add(1, Ordering::SeqCst);
        self.connections.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// Whether the gateway is shutting down.
    pub fn shutting_down(&self) -> bool {
        self.connections.phase() != Phase::Serving
    }

    /// Requests in progress on this connection.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// Milliseconds since the connection last had no request in progress (0 while it has).
    pub fn idle_ms(&self) -> u64 {
        if self.active() > 0 {
            return 0;
        }
        let since = self.idle_since_ms.load(Ordering::SeqCst);
        self.connections.now_ms().saturating_sub(since)
    }

    /// Milliseconds a write has been waiting for the client to read (0: none is).
    pub fn write_blocked_ms(&self) -> u64 {
        match self.write_blocked_since_ms.load(Ordering::SeqCst) {
            u64::MAX => 0,
            since => self.connections.now_ms().saturating_sub(since),
        }
    }
}

/// One request in flight; dropped when its response has been sent.
#[derive(Debug)]
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        let c = &activity.connections;
        activity.idle_since_ms.store(c.now_ms(), Ordering::SeqCst);
        activity.active.fetch_sub(1, Ordering::SeqCst);
        if c.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            c.changed.notify_waiters();
        }
    }
}

/// A socket that tells its [`Activity`] when bytes arrive and when a write waits, and that
/// closes lingering when asked to (see [`Activity::linger`]).
#[derive(Debug)]
pub struct Watched<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> {
    inner: Option<S>,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Watched<S> {
    pub fn new(inner: S, activity: Arc<Activity>) -> Watched<S> {
        Watched {
            inner: Some(inner),
            activity,
        }
    }

    fn inner(&mut self) -> Pin<&mut S> {
        // Taken only in `drop`.
        Pin::new(self.inner.as_mut().expect("the socket is there until dropped"))
    }
}

/// How long, and how much of an unread body, a lingering close reads before it closes.
const LINGER_TIME: std::time::Duration = std::time::Duration::from_secs(2);
const LINGER_BYTES: usize = 8 * 1024 * 1024;

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Drop for Watched<S> {
    fn drop(&mut self) {
        if !self.activity.linger.load(Ordering::SeqCst) {
            return;
        }
        let (Some(mut socket), Ok(runtime)) = (self.inner.take(), tokio::runtime::Handle::try_current()) else {
            return;
        };
        // Closing a socket with unread bytes sends a reset, which can destroy the answer the
        // client has not read yet: say the end first, then read what the client still sends.
        runtime.spawn(async move {
            use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
            let _ = socket.shutdown().await;
            let mut buf = vec![0u8; 16 * 1024];
            let mut total = 0usize;
            let _ = tokio::time::timeout(LINGER_TIME, async {
                while let Ok(n) = socket.read(&mut buf).await {
                    total += n;
                    if n == 0 || total > LINGER_BYTES {
                        break;
                    }
                }
            })
            .await;
        });
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncRead for Watched<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = self.inner().poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.read_any.store(true, Ordering::Relaxed);
        }
        polled
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Watched<S> {
    fn note<T>(&self, polled: Poll<T>) -> Poll<T> {
        let blocked = &self.activity.write_blocked_since_ms;
        if polled.is_pending() {
            if blocked.load(Ordering::Relaxed) == u64::MAX {
                blocked.store(self.activity.connections.now_ms(), Ordering::Relaxed);
            }
        } else {
            blocked.store(u64::MAX, Ordering::Relaxed);
        }
        polled
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncWrite for Watched<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let polled = self.inner().poll_write(cx, buf);
        self.note(polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = self.inner().poll_write_vectored(cx, bufs);
        self.note(polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.as_ref().is_some_and(|s| s.is_write_vectored())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = self.inner().poll_flush(cx);
        self.note(polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner().poll_shutdown(cx)
    }
}

/// A response body that keeps its request counted in flight until it has been sent, and
/// turns a panic while producing it into an error logged as one (the body ends there).
pub struct Tracked<B> {
    inner: B,
    _request: Option<InFlight>,
    panicked: bool,
}

impl<B> Tracked<B> {
    pub fn new(inner: B, request: InFlight) -> Tracked<B> {
        Tracked {
            inner,
            _request: Some(request),
            panicked: false,
        }
    }
}

impl<B> http_body::Body for Tracked<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<tonic::codegen::StdError>,
{
    type Data = Bytes;
    type Error = tonic::codegen::StdError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.panicked {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        let inner = &mut this.inner;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Pin::new(inner).poll_frame(cx))) {
            Ok(Poll::Ready(None)) => {
                this._request = None;
                Poll::Ready(None)
            }
            Ok(polled) => polled.map(|frame| frame.map(|f| f.map_err(Into::into))),
            Err(panic) => {
                this.panicked = true;
                this._request = None;
                tracing::error!(panic = %panic_message(&*panic), "the gateway panicked while sending a response");
                Poll::Ready(Some(Err("internal error while sending the response".into())))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.panicked || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A panic's message, as far as it has one.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// A future whose panic becomes `Err(payload)` instead of unwinding into the connection.
pub struct CatchPanic<F>(Pin<Box<F>>);

impl<F: Future> CatchPanic<F> {
    pub fn new(future: F) -> CatchPanic<F> {
        CatchPanic(Box::pin(future))
    }
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, Box<dyn std::any::Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = self.get_mut().0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

/// A request body that knows whether it was read to its end, and when it is dropped unread
/// hands itself back (so the server can drain it and keep the connection, or close it).
pub struct RequestBody {
    inner: Option<hyper::body::Incoming>,
    ended: Arc<AtomicBool>,
    give_back: Option<tokio::sync::oneshot::Sender<hyper::body::Incoming>>,
}

/// The server's side of a [`RequestBody`].
pub struct BodyReturn {
    pub ended: Arc<AtomicBool>,
    pub returned: tokio::sync::oneshot::Receiver<hyper::body::Incoming>,
}

impl RequestBody {
    pub fn new(body: hyper::body::Incoming) -> (RequestBody, BodyReturn) {
        let ended = Arc::new(AtomicBool::new(body.is_end_stream()));
        let (tx, rx) = tokio::sync::oneshot::channel();
        (
            RequestBody {
                inner: Some(body),
                ended: ended.clone(),
                give_back: Some(tx),
            },
            BodyReturn { ended, returned: rx },
        )
    }
}

impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(&mut *inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => this.ended.store(true, Ordering::SeqCst),
            Poll::Ready(Some(Ok(_))) if inner.is_end_stream() => this.ended.store(true, Ordering::SeqCst),
            // A broken body cannot be drained: the connection closes.
            Poll::Ready(Some(Err(_))) => this.give_back = None,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.as_ref().map(|b| b.size_hint()).unwrap_or_default()
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        if !self.ended.load(Ordering::SeqCst)
            && let (Some(body), Some(tx)) = (self.inner.take(), self.give_back.take())
        {
            let _ = tx.send(body);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_in_all_and_per_address_and_free_their_places() {
        let c = Connections::new(3, 2);
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        let a1 = c.admit(a).expect("first from a");
        let a2 = c.admit(a).expect("second from a");
        assert!(c.admit(a).is_none(), "a third from a is over the per-address cap");
        let b1 = c.admit(b).expect("first from b");
        assert!(c.admit(b).is_none(), "a fourth in all is over the cap");
        assert_eq!(c.open(), 3);
        drop(a1);
        assert!(c.admit(a).is_some(), "a place freed is taken again");
        drop((a2, b1));
        let mapped: IpAddr = "::ffff:127.0.0.2".parse().unwrap();
        let _m = c.admit(mapped).expect("after the drops");
        assert_eq!(c.per_ip.lock().unwrap().get(&a), Some(&1), "mapped IPv4 counts as IPv4");
    }
}
