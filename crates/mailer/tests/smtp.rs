//! SmtpMailer against real SMTP servers on loopback: mailin-embedded (plain, STARTTLS with AUTH, and
//! behind a TLS-terminating relay for implicit TLS), plus a port with nothing behind it and a server
//! that accepts connections and never speaks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authd_identity::ports::Mailer;
use authd_identity::{Email, MailFailure, OutgoingEmail};
use authd_kernel::Secret;
use authd_mailer::{SmtpConfig, SmtpMailer, SmtpTls};
use mail_parser::{MessageParser, MimeHeaders};
use mailin_embedded::response::OK;
use mailin_embedded::{AuthMechanism, Handler, Response, Server, SslConfig};
use rustls::ServerConfig;
use rustls::crypto::aws_lc_rs;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tempfile::TempDir;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

const LINK: &str = "https://app.example.com/reset-password?token=abc123";
const USERNAME: &str = "mailer";
const PASSWORD: &str = "correct horse battery staple";

/// The em dashes make the parts non-ASCII, so they travel encoded and must be decoded to be read.
fn reset_email() -> OutgoingEmail {
    OutgoingEmail {
        to: Email::parse("ada@example.com").unwrap(),
        subject: "Reset your password — authd".to_owned(),
        text: format!(
            "Someone — hopefully you — asked to reset your password.\n\nOpen {LINK} within 30 minutes.\n"
        ),
        html: format!(
            "<p>Someone — hopefully you — asked to reset your password.</p>\n\
             <p><a href=\"{LINK}\">Choose a new password</a> within 30 minutes.</p>\n"
        ),
    }
}

fn config(server: SocketAddr, tls: SmtpTls) -> SmtpConfig {
    SmtpConfig {
        host: server.ip().to_string(),
        port: server.port(),
        tls,
        username: None,
        password: None,
        from: "authd <no-reply@example.com>".to_owned(),
        timeout: Duration::from_secs(5),
    }
}

fn with_credentials(config: SmtpConfig, password: &str) -> SmtpConfig {
    SmtpConfig {
        username: Some(USERNAME.to_owned()),
        password: Some(Secret::new(password)),
        ..config
    }
}

/// One SMTP transaction as the server saw it.
#[derive(Debug, Clone, Default)]
struct Delivery {
    mail_from: String,
    rcpt_to: Vec<String>,
    data: Vec<u8>,
}

/// The mailin handler: records deliveries and AUTH attempts. mailin clones it for every connection, so
/// the records are shared and `current` is per connection.
#[derive(Clone, Default)]
struct Recorder {
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    logins: Arc<Mutex<Vec<(String, String)>>>,
    rcpt_reply: Option<(u16, &'static str)>,
    current: Delivery,
}

impl Recorder {
    fn answering_rcpt(code: u16, text: &'static str) -> Self {
        Self {
            rcpt_reply: Some((code, text)),
            ..Self::default()
        }
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().unwrap().clone()
    }

    fn logins(&self) -> Vec<(String, String)> {
        self.logins.lock().unwrap().clone()
    }

    fn login(&self, username: &str, password: &str) -> Response {
        self.logins
            .lock()
            .unwrap()
            .push((username.to_owned(), password.to_owned()));
        if (username, password) == (USERNAME, PASSWORD) {
            mailin_embedded::response::AUTH_OK
        } else {
            mailin_embedded::response::INVALID_CREDENTIALS
        }
    }
}

impl Handler for Recorder {
    fn rcpt(&mut self, _to: &str) -> Response {
        match self.rcpt_reply {
            Some((code, text)) => Response::custom(code, text.to_owned()),
            None => OK,
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Delivery {
            mail_from: from.to_owned(),
            rcpt_to: to.to_vec(),
            data: Vec::new(),
        };
        OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        self.current.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let delivery = std::mem::take(&mut self.current);
        self.deliveries.lock().unwrap().push(delivery);
        OK
    }

    fn auth_plain(&mut self, _authorization: &str, username: &str, password: &str) -> Response {
        self.login(username, password)
    }

    fn auth_login(&mut self, username: &str, password: &str) -> Response {
        self.login(username, password)
    }
}

/// A self-signed certificate for 127.0.0.1, also written to files because mailin loads it from disk.
struct TestCert {
    der: CertificateDer<'static>,
    key_der: Vec<u8>,
    dir: TempDir,
}

impl TestCert {
    fn new() -> Self {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cert.pem"), certified.cert.pem()).unwrap();
        std::fs::write(
            dir.path().join("key.pem"),
            certified.signing_key.serialize_pem(),
        )
        .unwrap();
        Self {
            der: certified.cert.der().clone(),
            key_der: certified.signing_key.serialize_der(),
            dir,
        }
    }

    fn path(&self, file: &str) -> String {
        self.dir.path().join(file).to_str().unwrap().to_owned()
    }
}

/// Starts mailin on a free loopback port. With a certificate it offers STARTTLS, and after it AUTH PLAIN
/// and LOGIN (mailin never offers AUTH in plain text). mailin has no shutdown: the server thread lives
/// until the test process ends.
fn start_server(recorder: &Recorder, tls: Option<&TestCert>) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut server = Server::new(recorder.clone());
    server.with_tcp_listener(listener);
    if let Some(cert) = tls {
        // mailin builds its TLS config on rustls's process-wide provider; naming it keeps the test working
        // should a second provider get compiled in.
        let _ = aws_lc_rs::default_provider().install_default();
        server
            .with_ssl(SslConfig::SelfSigned {
                cert_path: cert.path("cert.pem"),
                key_path: cert.path("key.pem"),
            })
            .unwrap()
            .with_auth(AuthMechanism::Plain)
            .with_auth(AuthMechanism::Login);
    }
    std::thread::spawn(move || server.serve().map_err(|error| error.to_string()));
    addr
}

/// Terminates TLS on a free port and relays the plain bytes to `backend`, because mailin cannot speak
/// TLS from the first byte.
async fn start_tls_relay(backend: SocketAddr, cert: &TestCert) -> SocketAddr {
    let config = ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der.clone()],
            PrivateKeyDer::Pkcs8(cert.key_der.clone().into()),
        )
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let mut tls = acceptor.accept(tcp).await.unwrap();
                let mut plain = TcpStream::connect(backend).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    addr
}

/// Checks the one delivery against `reset_email()`, decoding the MIME parts first.
fn assert_reset_email_delivered(recorder: &Recorder) {
    let deliveries = recorder.deliveries();
    let [delivery] = deliveries.as_slice() else {
        panic!("expected one delivery, got {deliveries:?}");
    };
    assert_eq!(delivery.mail_from, "no-reply@example.com");
    assert_eq!(delivery.rcpt_to, ["ada@example.com"]);

    let message = MessageParser::default().parse(&delivery.data).unwrap();
    let from = message.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("authd"));
    assert_eq!(from.address(), Some("no-reply@example.com"));
    let to = message.to().unwrap().first().unwrap();
    assert_eq!(to.address(), Some("ada@example.com"));
    assert_eq!(message.subject(), Some("Reset your password — authd"));

    let root = message.content_type().unwrap();
    assert_eq!(
        (root.ctype(), root.subtype()),
        ("multipart", Some("alternative"))
    );
    let part = |subtype: &str| {
        message.parts[1..]
            .iter()
            .find(|part| {
                part.content_type()
                    .is_some_and(|ct| ct.ctype() == "text" && ct.subtype() == Some(subtype))
            })
            .and_then(|part| part.text_contents())
            .unwrap_or_else(|| panic!("no text/{subtype} part"))
    };
    let (text, html) = (part("plain"), part("html"));
    assert!(
        text.contains(LINK) && text.contains("— hopefully you —"),
        "{text}"
    );
    assert!(
        html.contains(LINK) && html.contains("— hopefully you —"),
        "{html}"
    );
}

fn assert_reason_is_clean(failure: &MailFailure) {
    for secret in [LINK, "hopefully you", PASSWORD] {
        assert!(!failure.reason.contains(secret), "{failure:?}");
    }
}

#[tokio::test]
async fn plain_smtp_delivers_a_multipart_message_with_the_link_in_both_parts() {
    let recorder = Recorder::default();
    let server = start_server(&recorder, None);
    let mailer = SmtpMailer::new(config(server, SmtpTls::None)).unwrap();

    mailer.send(&reset_email()).await.unwrap();

    assert_reset_email_delivered(&recorder);
}

#[tokio::test]
async fn starttls_upgrades_and_authenticates_with_the_configured_credentials() {
    let cert = TestCert::new();
    let recorder = Recorder::default();
    let server = start_server(&recorder, Some(&cert));
    let config = with_credentials(config(server, SmtpTls::StartTls), PASSWORD);
    let mailer = SmtpMailer::with_extra_roots(config, [cert.der.clone()]).unwrap();

    mailer.send(&reset_email()).await.unwrap();

    assert_eq!(
        recorder.logins(),
        [(USERNAME.to_owned(), PASSWORD.to_owned())]
    );
    assert_reset_email_delivered(&recorder);
}

#[tokio::test]
async fn implicit_tls_delivers_over_tls_from_the_first_byte() {
    let cert = TestCert::new();
    let recorder = Recorder::default();
    let relay = start_tls_relay(start_server(&recorder, None), &cert).await;
    let mailer =
        SmtpMailer::with_extra_roots(config(relay, SmtpTls::Tls), [cert.der.clone()]).unwrap();

    mailer.send(&reset_email()).await.unwrap();

    assert_reset_email_delivered(&recorder);
}

#[tokio::test]
async fn wrong_password_is_a_permanent_failure_that_does_not_repeat_it() {
    let cert = TestCert::new();
    let recorder = Recorder::default();
    let server = start_server(&recorder, Some(&cert));
    let config = with_credentials(config(server, SmtpTls::StartTls), "not the password");
    let mailer = SmtpMailer::with_extra_roots(config, [cert.der.clone()]).unwrap();

    let failure = mailer.send(&reset_email()).await.unwrap_err();

    assert!(failure.permanent, "{failure:?}");
    assert!(failure.reason.contains("535"), "{failure:?}");
    assert!(!failure.reason.contains("not the password"), "{failure:?}");
    assert!(recorder.deliveries().is_empty());
}

#[tokio::test]
async fn untrusted_certificate_is_a_temporary_failure() {
    let cert = TestCert::new();
    let recorder = Recorder::default();
    let server = start_server(&recorder, Some(&cert));
    // Only the system's roots, which do not include the test certificate.
    let mailer = SmtpMailer::new(config(server, SmtpTls::StartTls)).unwrap();

    let failure = mailer.send(&reset_email()).await.unwrap_err();

    assert!(!failure.permanent, "{failure:?}");
    assert!(failure.reason.contains("TLS"), "{failure:?}");
    assert!(recorder.deliveries().is_empty());
}

#[tokio::test]
async fn starttls_required_but_not_offered_fails_instead_of_sending_in_clear() {
    let recorder = Recorder::default();
    let server = start_server(&recorder, None);
    let mailer = SmtpMailer::new(config(server, SmtpTls::StartTls)).unwrap();

    let failure = mailer.send(&reset_email()).await.unwrap_err();

    assert!(!failure.permanent, "{failure:?}");
    assert!(failure.reason.contains("STARTTLS"), "{failure:?}");
    assert!(recorder.deliveries().is_empty());
}

#[tokio::test]
async fn rejected_recipient_is_a_permanent_failure() {
    let recorder = Recorder::answering_rcpt(550, "5.1.1 No such user");
    let server = start_server(&recorder, None);
    let mailer = SmtpMailer::new(config(server, SmtpTls::None)).unwrap();

    let failure = mailer.send(&reset_email()).await.unwrap_err();

    assert!(failure.permanent, "{failure:?}");
    assert!(
        failure.reason.contains("550 5.1.1 No such user"),
        "{failure:?}"
    );
    assert_reason_is_clean(&failure);
    assert!(recorder.deliveries().is_empty());
}

#[tokio::test]
async fn recipient_deferred_with_4xx_is_a_temporary_failure() {
    let recorder = Recorder::answering_rcpt(451, "4.3.0 Try again later");
    let server = start_server(&recorder, None);
    let mailer = SmtpMailer::new(config(server, SmtpTls::None)).unwrap();

    let failure = mailer.send(&reset_email()).await.unwrap_err();

    assert!(!failure.permanent, "{failure:?}");
    assert!(failure.reason.contains("451"), "{failure:?}");
    assert_reason_is_clean(&failure);
}

#[tokio::test]
async fn server_that_is_down_is_a_quick_temporary_failure() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mailer = SmtpMailer::new(config(closed, SmtpTls::None)).unwrap();

    let started = Instant::now();
    let failure = mailer.send(&reset_email()).await.unwrap_err();

    assert!(!failure.permanent, "{failure:?}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_reason_is_clean(&failure);
}

#[tokio::test]
async fn server_that_never_speaks_times_out_as_a_temporary_failure() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = listener.local_addr().unwrap();
    // Accepts and holds every connection without sending the greeting.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let timeout = Duration::from_millis(300);
    let mailer = SmtpMailer::new(SmtpConfig {
        timeout,
        ..config(server, SmtpTls::None)
    })
    .unwrap();

    let started = Instant::now();
    let failure = mailer.send(&reset_email()).await.unwrap_err();

    let elapsed = started.elapsed();
    assert!(!failure.permanent, "{failure:?}");
    assert!(failure.reason.contains("no answer"), "{failure:?}");
    assert!(
        elapsed >= timeout && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
}
