//! The time-sync HTTP servers (SPEC §4.1): the drop-in service that stores
//! whatever is posted, and the publisher of the replay's playback clock.
//!
//! Each server owns one thread running a single-threaded tokio runtime that
//! drives hyper, so a slow or broken client only ever holds its own
//! connection: headers must arrive within `header_timeout`, a body within
//! `body_timeout`, heads are capped at 16 KiB and bodies at [`MAX_BODY`]
//! bytes, and the number of open connections is bounded.

use super::MAX_BODY;
use crate::text::{fit, sanitize};
use crate::time::Timestamp;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body as _, Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CONNECTION, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;
use tokio::sync::{oneshot, Semaphore};

/// Largest request head (request line and headers) a client may send.
const MAX_HEAD: usize = 16 * 1024;
/// Pause after a failed `accept` (e.g. out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// How long a stopping server lets requests in flight finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);
/// The published clock before anything was set.
const UNSET: i64 = i64::MIN;

/// Limits that keep slow or hostile clients from holding the server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// A request head must arrive completely within this time; an idle
    /// keep-alive connection is closed after it too.
    pub header_timeout: Duration,
    /// A `POST` body must arrive completely within this time (else 408).
    pub body_timeout: Duration,
    /// Connections served at once; further clients wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            header_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(5),
            max_connections: 256,
        }
    }
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {error}")]
    Bind { addr: SocketAddr, error: io::Error },
    #[error("cannot start the time-sync server: {0}")]
    Start(io::Error),
}

/// One answered request, for the log line of `usage-replay time-server`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestLog {
    pub peer: SocketAddr,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// Bytes of request body stored (`POST /time`), else 0.
    pub bytes_in: usize,
    /// Bytes of response body.
    pub bytes_out: usize,
    /// The time stored or served, for successful requests on `/time`.
    pub value: Option<String>,
}

impl fmt::Display for RequestLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Method, path and value come from the client: never let them drive the terminal.
        write!(
            f,
            "{} {} {} {} in={} out={}",
            self.peer,
            fit(&sanitize(&self.method), 16),
            fit(&sanitize(&self.path), 80),
            self.status,
            self.bytes_in,
            self.bytes_out
        )?;
        if let Some(v) = &self.value {
            write!(f, " \"{}\"", fit(&sanitize(v), 64))?;
        }
        Ok(())
    }
}

/// Called once per answered request, on the server's thread.
pub type RequestLogger = Box<dyn Fn(&RequestLog) + Send + Sync>;

/// The drop-in replacement for notigen's `time_sync` service: `GET /time`
/// answers the raw body of the last `POST /time` (empty before the first).
///
/// The server stops when this handle is dropped or [`shutdown`](Self::shutdown).
pub struct TimeServer {
    shared: Arc<Shared>,
    running: Running,
}

impl TimeServer {
    pub fn start(
        addr: SocketAddr,
        config: ServerConfig,
        log: Option<RequestLogger>,
    ) -> Result<TimeServer, ServerError> {
        let shared = Arc::new(Shared::new(Source::Stored(Mutex::new(Bytes::new())), config, log));
        let running = Running::start(addr, shared.clone(), "time-server")?;
        Ok(TimeServer { shared, running })
    }

    /// The address actually bound (the port is chosen when `addr` asks for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.running.addr
    }

    /// The raw body of the last accepted `POST /time` (empty before the first).
    pub fn current(&self) -> Bytes {
        self.shared.source.current()
    }

    /// Requests answered so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Stop accepting, let requests in flight finish (briefly), and wait for the thread.
    pub fn shutdown(mut self) {
        self.running.stop();
    }
}

/// Serves the replay's playback clock: `GET /time` answers
/// `YYYY-MM-DD HH:MM:SS.ffffff` (UTC, no zone), an empty body before any
/// time is set; `POST /time` is refused with 409 while the replay owns the
/// clock.
///
/// [`set`](Self::set) is one atomic store, meant to be called every frame.
/// The server stops when this handle is dropped.
pub struct PlaybackClockServer {
    clock: Arc<AtomicI64>,
    shared: Arc<Shared>,
    running: Running,
}

impl PlaybackClockServer {
    pub fn start(addr: SocketAddr, initial: Option<Timestamp>) -> Result<PlaybackClockServer, ServerError> {
        Self::start_with(addr, initial, ServerConfig::default(), None)
    }

    pub fn start_with(
        addr: SocketAddr,
        initial: Option<Timestamp>,
        config: ServerConfig,
        log: Option<RequestLogger>,
    ) -> Result<PlaybackClockServer, ServerError> {
        let clock = Arc::new(AtomicI64::new(UNSET));
        let shared = Arc::new(Shared::new(Source::Playback(clock.clone()), config, log));
        let server =
            PlaybackClockServer { clock, running: Running::start(addr, shared.clone(), "clock-server")?, shared };
        if let Some(t) = initial {
            server.set(t);
        }
        Ok(server)
    }

    /// Publish the playback clock. An infinite clock (the drain's
    /// `advance(+infinity)`) has no datetime form, so the last finite time
    /// stays published.
    pub fn set(&self, t: Timestamp) {
        if !t.is_infinite() {
            self.clock.store(t.micros(), Ordering::Relaxed);
        }
    }

    /// Go back to "not published yet" (an empty body).
    pub fn clear(&self) {
        self.clock.store(UNSET, Ordering::Relaxed);
    }

    /// The time `GET /time` currently answers, if any.
    pub fn published(&self) -> Option<Timestamp> {
        match self.clock.load(Ordering::Relaxed) {
            UNSET => None,
            us => Some(Timestamp::from_micros(us)),
        }
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.running.addr
    }

    /// Requests answered so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }
}

/// Ctrl-C and SIGTERM caught for a foreground server, so that it can stop
/// gracefully. Catching starts at [`catch`](Self::catch), so a signal that
/// arrives before [`wait`](Self::wait) is not lost. The same mechanism
/// (signal-hook) serves the interactive replay's signals.
pub struct Interrupt {
    signals: signal_hook::iterator::Signals,
}

impl Interrupt {
    pub fn catch() -> io::Result<Interrupt> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        Ok(Interrupt { signals: signal_hook::iterator::Signals::new([SIGINT, SIGTERM])? })
    }

    /// Block until the signal comes.
    pub fn wait(mut self) -> io::Result<()> {
        self.signals.forever().next();
        Ok(())
    }
}

/// What `/time` is backed by.
enum Source {
    /// The drop-in service: the raw body of the last POST.
    Stored(Mutex<Bytes>),
    /// The playback clock in microseconds, or `UNSET`.
    Playback(Arc<AtomicI64>),
}

impl Source {
    fn current(&self) -> Bytes {
        match self {
            Source::Stored(slot) => lock(slot).clone(),
            Source::Playback(clock) => match clock.load(Ordering::Relaxed) {
                UNSET => Bytes::new(),
                us => Bytes::from(Timestamp::from_micros(us).wire()),
            },
        }
    }
}

/// A poisoned lock only means another request panicked mid-update of a
/// `Bytes` swap, which cannot leave it half-written.
fn lock(slot: &Mutex<Bytes>) -> MutexGuard<'_, Bytes> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

struct Shared {
    source: Source,
    config: ServerConfig,
    log: Option<RequestLogger>,
    requests: AtomicU64,
}

impl Shared {
    fn new(source: Source, config: ServerConfig, log: Option<RequestLogger>) -> Shared {
        Shared { source, config, log, requests: AtomicU64::new(0) }
    }
}

/// A server thread and the means to stop it.
struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Running {
    /// Bind on the caller's thread, so that "address in use" is reported at
    /// once, then serve on a new thread.
    fn start(addr: SocketAddr, shared: Arc<Shared>, name: &str) -> Result<Running, ServerError> {
        let listener = std::net::TcpListener::bind(addr).map_err(|error| ServerError::Bind { addr, error })?;
        listener.set_nonblocking(true).map_err(ServerError::Start)?;
        let local = listener.local_addr().map_err(ServerError::Start)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(ServerError::Start)?;
        let listener = {
            let _cx = rt.enter();
            tokio::net::TcpListener::from_std(listener).map_err(ServerError::Start)?
        };
        let (stop, stopped) = oneshot::channel();
        let thread = thread::Builder::new()
            .name(name.to_string())
            .spawn(move || rt.block_on(serve(listener, shared, stopped)))
            .map_err(ServerError::Start)?;
        Ok(Running { addr: local, stop: Some(stop), thread: Some(thread) })
    }

    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>, mut stop: oneshot::Receiver<()>) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(shared.config.header_timeout).max_buf_size(MAX_HEAD);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(shared.config.max_connections.max(1)));
    loop {
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => match s { Ok(s) => s, Err(_) => break },
            _ = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(_) => {
                    // Out of descriptors or a connection reset before accept: transient, keep serving.
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let for_requests = shared.clone();
        let conn = http
            .serve_connection(TokioIo::new(stream), service_fn(move |req| respond(req, for_requests.clone(), peer)));
        let conn = graceful.watch(conn);
        let shared = shared.clone();
        tokio::spawn(async move {
            // Protocol errors, timeouts and resets end only this connection.
            if let Err(e) = conn.await {
                log_rejected(&shared, peer, &e);
            }
            drop(slot);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}

/// What to answer, before it becomes a hyper response.
struct Reply {
    status: StatusCode,
    body: Bytes,
    /// Bytes of request body stored.
    bytes_in: usize,
    /// The value stored or served.
    value: Option<Bytes>,
    allow: bool,
    /// Close after answering: the request body was left unread.
    close: bool,
}

impl Reply {
    fn ok(body: Bytes) -> Reply {
        Reply { status: StatusCode::OK, value: Some(body.clone()), body, bytes_in: 0, allow: false, close: false }
    }

    fn error(status: StatusCode, message: &'static str) -> Reply {
        Reply {
            status,
            body: Bytes::from_static(message.as_bytes()),
            bytes_in: 0,
            value: None,
            allow: false,
            close: false,
        }
    }

    fn closing(mut self, close: bool) -> Reply {
        self.close = close;
        self
    }

    fn into_response(self) -> Response<Full<Bytes>> {
        let mut r = Response::new(Full::new(self.body));
        *r.status_mut() = self.status;
        r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        if self.allow {
            r.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD, POST"));
        }
        if self.close {
            r.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
        }
        r
    }
}

/// Requests hyper refused before they reached [`respond`] still get their
/// log line; timeouts and resets do not (an idle keep-alive ends that way).
fn log_rejected(shared: &Shared, peer: SocketAddr, e: &hyper::Error) {
    let status = if e.is_parse_too_large() {
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    } else if e.is_parse() || e.is_parse_status() {
        StatusCode::BAD_REQUEST
    } else {
        return;
    };
    shared.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(log) = &shared.log {
        log(&RequestLog {
            peer,
            method: "-".into(),
            path: "(malformed request)".into(),
            status: status.as_u16(),
            bytes_in: 0,
            bytes_out: 0,
            value: None,
        });
    }
}

async fn respond(
    req: Request<Incoming>,
    shared: Arc<Shared>,
    peer: SocketAddr,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let reply = route(req, &shared).await;
    shared.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(log) = &shared.log {
        log(&RequestLog {
            peer,
            method: method.to_string(),
            path,
            status: reply.status.as_u16(),
            bytes_in: reply.bytes_in,
            bytes_out: reply.body.len(),
            value: reply.value.as_ref().map(|v| String::from_utf8_lossy(v).into_owned()),
        });
    }
    Ok(reply.into_response())
}

async fn route(req: Request<Incoming>, shared: &Shared) -> Reply {
    // A body we do not read would be taken for the next request: close instead.
    let unread_body = !req.body().is_end_stream();
    if !matches!(req.uri().path(), "/time" | "/time/") {
        return Reply::error(StatusCode::NOT_FOUND, "not found: this service answers only /time\n")
            .closing(unread_body);
    }
    match *req.method() {
        Method::GET | Method::HEAD => Reply::ok(shared.source.current()).closing(unread_body),
        Method::POST => match &shared.source {
            Source::Stored(slot) => store(req.into_body(), slot, &shared.config).await,
            Source::Playback(_) => Reply::error(
                StatusCode::CONFLICT,
                "conflict: the replay owns the clock; POST /time is refused while it publishes\n",
            )
            .closing(unread_body),
        },
        _ => {
            let mut r = Reply::error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed: use GET or POST on /time\n");
            r.allow = true;
            r.closing(unread_body)
        }
    }
}

/// `POST /time` on the drop-in service: keep the raw body, unless it is too
/// large, too slow or broken, in which case nothing changes.
async fn store(body: Incoming, slot: &Mutex<Bytes>, config: &ServerConfig) -> Reply {
    const TOO_LARGE: &str = "payload too large: a time is at most 4096 bytes\n";
    if body.size_hint().lower() > MAX_BODY as u64 {
        return Reply::error(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE).closing(true);
    }
    match tokio::time::timeout(config.body_timeout, Limited::new(body, MAX_BODY).collect()).await {
        Err(_) => Reply::error(StatusCode::REQUEST_TIMEOUT, "request timeout: the body did not arrive in time\n")
            .closing(true),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Reply::error(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE).closing(true)
        }
        Ok(Err(_)) => Reply::error(StatusCode::BAD_REQUEST, "bad request: the body could not be read\n").closing(true),
        Ok(Ok(collected)) => {
            let posted = collected.to_bytes();
            // Stored raw, but only what a TimeSync consumer can read: a time, or "not published yet".
            if let super::follow::FollowStatus::Unavailable(_) = super::follow::interpret_body(&posted) {
                return Reply::error(
                    StatusCode::BAD_REQUEST,
                    "bad request: malformed time: post a datetime such as 2014-10-09 22:55:33.111111, or None\n",
                );
            }
            *lock(slot) = posted.clone();
            Reply {
                status: StatusCode::OK,
                body: Bytes::new(),
                bytes_in: posted.len(),
                value: Some(posted),
                allow: false,
                close: false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_neutralise_client_text() {
        let line = RequestLog {
            peer: "127.0.0.1:5000".parse().unwrap(),
            method: "POST".into(),
            path: "/time\x1b[2J".into(),
            status: 200,
            bytes_in: 26,
            bytes_out: 0,
            value: Some("2014-10-09 22:55:33.111111\n".into()),
        }
        .to_string();
        assert_eq!(line, "127.0.0.1:5000 POST /time\\x1b[2J 200 in=26 out=0 \"2014-10-09 22:55:33.111111\\x0a\"");
    }

    #[test]
    fn the_published_clock_keeps_its_last_finite_time() {
        let s = PlaybackClockServer::start("127.0.0.1:0".parse().unwrap(), None).unwrap();
        assert_eq!(s.published(), None);
        let t = Timestamp::from_micros(1_412_895_333_111_111);
        s.set(t);
        s.set(Timestamp::MAX);
        assert_eq!(s.published(), Some(t));
        s.clear();
        assert_eq!(s.published(), None);
    }
}
