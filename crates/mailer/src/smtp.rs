//! The Mailer port over SMTP, with mail-send: one connection per email, failures sorted into temporary
//! and permanent.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use authd_identity::ports::Mailer;
use authd_identity::{Email, MailFailure, OutgoingEmail};
use authd_kernel::Secret;
use mail_send::mail_builder::MessageBuilder;
use mail_send::mail_builder::headers::address::Address;
use mail_send::smtp::message::Message;
use mail_send::{SmtpClient, SmtpClientBuilder};
use rustls::ClientConfig;
use rustls::crypto::aws_lc_rs;
use rustls::pki_types::CertificateDer;
use rustls_platform_verifier::Verifier;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsConnector;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text throughout (a relay on the same host or network). Credentials travel in clear.
    None,
    /// Plain connection upgraded with STARTTLS (usually port 587); a server that does not offer it is an
    /// error, never a silent fallback to plain text.
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

/// Where and how to send mail.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Server host name or IP address; also the name its certificate must carry.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Connection security.
    pub tls: SmtpTls,
    /// AUTH user name; with `password`, or neither.
    pub username: Option<String>,
    /// AUTH password; with `username`, or neither.
    pub password: Option<Secret>,
    /// The sender: `no-reply@example.com` or `authd <no-reply@example.com>`.
    pub from: String,
    /// The most one email may take, from connecting to the server's acceptance.
    pub timeout: Duration,
}

/// An [`SmtpConfig`] that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum SmtpConfigError {
    /// `from` is not `address` or `Name <address>`.
    #[error(
        "invalid sender address {0:?}; expected `no-reply@example.com` or `Name <no-reply@example.com>`"
    )]
    InvalidFrom(String),
    /// Only one of `username` and `password` is set.
    #[error("SMTP username and password go together; set both or neither")]
    IncompleteCredentials,
    /// The TLS client could not be set up (no usable root certificate, a malformed extra root).
    #[error("SMTP TLS setup failed: {0}")]
    Tls(#[from] rustls::Error),
}

/// Sends each email over its own SMTP connection: connect, authenticate when configured, one message,
/// quit. Holding no connection between emails keeps it simple and correct for the low volume of an
/// authentication service.
#[derive(Clone)]
pub struct SmtpMailer {
    client: SmtpClientBuilder<String>,
    tls: SmtpTls,
    from: Sender,
    timeout: Duration,
}

impl SmtpMailer {
    /// A mailer for `config`, trusting the system's root certificates.
    ///
    /// # Errors
    /// An invalid `from`, half of the credentials, or (with TLS) no usable root certificate.
    pub fn new(config: SmtpConfig) -> Result<Self, SmtpConfigError> {
        Self::with_extra_roots(config, [])
    }

    /// Like [`SmtpMailer::new`], also trusting `roots` (DER certificates): a relay behind a private CA, or
    /// a test server's self-signed certificate.
    ///
    /// # Errors
    /// As [`SmtpMailer::new`], and a malformed root certificate.
    pub fn with_extra_roots(
        config: SmtpConfig,
        roots: impl IntoIterator<Item = CertificateDer<'static>>,
    ) -> Result<Self, SmtpConfigError> {
        let from = Sender::parse(&config.from)?;
        let tls = tls_connector(config.tls, roots)?;
        let mut client = SmtpClientBuilder::new_with_tls_connector(config.host, config.port, tls)
            .implicit_tls(config.tls == SmtpTls::Tls)
            .timeout(config.timeout);
        match (config.username, config.password) {
            (Some(username), Some(password)) => {
                if config.tls == SmtpTls::None {
                    tracing::warn!("SMTP credentials will be sent without TLS");
                }
                client = client.credentials((username, password.expose().to_owned()));
            }
            (None, None) => {}
            _ => return Err(SmtpConfigError::IncompleteCredentials),
        }
        Ok(Self {
            client,
            tls: config.tls,
            from,
            timeout: config.timeout,
        })
    }

    fn compose(&self, email: &OutgoingEmail) -> Result<Vec<u8>, MailFailure> {
        MessageBuilder::new()
            .from(Address::new_address(
                self.from.name.as_deref(),
                self.from.address.as_str(),
            ))
            .to(email.to.as_str())
            .subject(email.subject.as_str())
            .text_body(email.text.as_str())
            .html_body(email.html.as_str())
            .write_to_vec()
            .map_err(|error| MailFailure::permanent(format!("cannot build the message: {error}")))
    }

    /// Runs one SMTP session on the client `connect` yields. The deadline covers everything up to the
    /// server's acceptance; the goodbye only gets what is left of it.
    async fn deliver<S>(
        &self,
        connect: impl Future<Output = mail_send::Result<SmtpClient<S>>>,
        message: Message<'_>,
    ) -> Result<(), MailFailure>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let deadline = Instant::now() + self.timeout;
        let accepted = timeout_at(deadline, async {
            let mut client = connect.await?;
            client.send(message).await?;
            Ok(client)
        })
        .await;
        let client = match accepted {
            Ok(Ok(client)) => client,
            Ok(Err(error)) => return Err(self.failure(error)),
            Err(_elapsed) => {
                return Err(MailFailure::temporary(format!(
                    "{}: no answer within {:?}",
                    self.client.addr, self.timeout
                )));
            }
        };
        // The server has the message now: a failed QUIT must not turn it into a failure, or a retry would
        // send it twice.
        if let Ok(Err(error)) = timeout_at(deadline, client.quit()).await {
            tracing::debug!(%error, "SMTP QUIT failed after the message was accepted");
        }
        Ok(())
    }

    /// Sorts a mail-send error. The reasons name the server and what it said, never the message or the
    /// password (mail-send's errors carry neither).
    fn failure(&self, error: mail_send::Error) -> MailFailure {
        use mail_send::Error as E;
        let server = &self.client.addr;
        match error {
            E::UnexpectedReply(reply) | E::AuthenticationFailed(reply) => {
                let (code, message) = (reply.code, reply.message.trim());
                let reason = match reply.esc {
                    [0, ..] => format!("{server} replied {code} {message}"),
                    [class, subject, detail] => {
                        format!("{server} replied {code} {class}.{subject}.{detail} {message}")
                    }
                };
                if (500..600).contains(&code) {
                    MailFailure::permanent(reason)
                } else {
                    MailFailure::temporary(reason)
                }
            }
            // Our configuration does not fit the server: retrying the same thing cannot help.
            E::UnsupportedAuthMechanism | E::InvalidTLSName | E::MissingCredentials => {
                MailFailure::permanent(format!("{server}: {error}"))
            }
            // The network, the server or a TLS handshake: any of these may be fine a minute later.
            _ => MailFailure::temporary(format!("{server}: {error}")),
        }
    }
}

impl Mailer for SmtpMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailFailure> {
        let body = self.compose(email)?;
        let message = Message::new(self.from.address.as_str(), [email.to.as_str()], body);
        match self.tls {
            SmtpTls::None => self.deliver(self.client.connect_plain(), message).await,
            SmtpTls::StartTls | SmtpTls::Tls => self.deliver(self.client.connect(), message).await,
        }
    }
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("server", &self.client.addr)
            .field("tls", &self.tls)
            .field("from", &self.from)
            .field("authenticates", &self.client.credentials.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The TLS client, on an explicit crypto provider: relying on rustls's process-wide default would panic
/// as soon as another crate in the binary enables a second provider.
fn tls_connector(
    tls: SmtpTls,
    roots: impl IntoIterator<Item = CertificateDer<'static>>,
) -> Result<TlsConnector, rustls::Error> {
    let provider = Arc::new(aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()?;
    let config = if tls == SmtpTls::None {
        // Never used, and a host without system certificates must still be able to send in plain text.
        builder
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth()
    } else {
        let verifier = Verifier::new_with_extra_roots(roots, provider)?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth()
    };
    Ok(TlsConnector::from(Arc::new(config)))
}

/// The parsed `from` of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sender {
    name: Option<String>,
    address: String,
}

impl Sender {
    fn parse(raw: &str) -> Result<Self, SmtpConfigError> {
        let invalid = || SmtpConfigError::InvalidFrom(raw.to_owned());
        let trimmed = raw.trim();
        let (name, address) = match trimmed.strip_suffix('>').and_then(|s| s.rsplit_once('<')) {
            Some((name, address)) => (name.trim().trim_matches('"').trim(), address),
            None => ("", trimmed),
        };
        // A line break in a header value would let the configuration inject headers.
        if name.chars().any(char::is_control) || address.contains(['<', '>', '"']) {
            return Err(invalid());
        }
        let address = Email::parse(address).map_err(|_| invalid())?;
        Ok(Self {
            name: (!name.is_empty()).then(|| name.to_owned()),
            address: address.as_str().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender(name: Option<&str>, address: &str) -> Sender {
        Sender {
            name: name.map(str::to_owned),
            address: address.to_owned(),
        }
    }

    #[test]
    fn sender_is_an_address_with_an_optional_display_name() {
        let parse = |raw| Sender::parse(raw).unwrap();
        assert_eq!(
            parse("no-reply@example.com"),
            sender(None, "no-reply@example.com")
        );
        assert_eq!(
            parse("authd <no-reply@example.com>"),
            sender(Some("authd"), "no-reply@example.com")
        );
        assert_eq!(
            parse(" \"Acme Sign-in\" <No-Reply@Example.com> "),
            sender(Some("Acme Sign-in"), "no-reply@example.com")
        );
        assert_eq!(
            parse("<no-reply@example.com>"),
            sender(None, "no-reply@example.com")
        );
    }

    #[test]
    fn malformed_senders_are_refused() {
        for raw in [
            "",
            "authd",
            "authd <no-reply>",
            "authd <no-reply@example.com",
            "authd\r\nBcc: x@example.com <no-reply@example.com>",
        ] {
            assert!(
                matches!(Sender::parse(raw), Err(SmtpConfigError::InvalidFrom(_))),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn half_of_the_credentials_is_refused() {
        let config = SmtpConfig {
            host: "localhost".to_owned(),
            port: 25,
            tls: SmtpTls::None,
            username: Some("authd".to_owned()),
            password: None,
            from: "no-reply@example.com".to_owned(),
            timeout: Duration::from_secs(5),
        };
        assert!(matches!(
            SmtpMailer::new(config),
            Err(SmtpConfigError::IncompleteCredentials)
        ));
    }
}
