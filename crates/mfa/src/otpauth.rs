//! The `otpauth://` enrolment URL (Google Authenticator's key-URI format) that authenticator apps scan.
//!
//! Built here rather than by a TOTP crate: `google-authenticator` has no public builder for it (only one
//! that ships the URL, secret included, to a third-party chart service), and the URL carries the secret,
//! so it is returned as a [`Secret`].

use authd_kernel::Secret;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::TotpSecret;
use crate::totp::{DIGITS, STEP_SECONDS};

/// Everything but RFC 3986's unreserved characters is escaped, so a `:` or `&` in an issuer or account
/// cannot be mistaken for the label separator or the next query parameter, and a space becomes `%20`
/// (never `+`, which some apps would show literally).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `otpauth://totp/<issuer>:<account>?secret=<BASE32>&issuer=<issuer>&algorithm=SHA1&digits=6&period=30`,
/// with issuer and account percent-encoded in the label and in the query.
pub fn otpauth_url(issuer: &str, account: &str, secret: &TotpSecret) -> Secret {
    let issuer = utf8_percent_encode(issuer, COMPONENT).to_string();
    let account = utf8_percent_encode(account, COMPONENT);
    let secret = secret.to_base32();
    Secret::new(format!(
        "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        secret.expose()
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use percent_encoding::percent_decode_str;

    /// An otpauth URL taken apart the way an authenticator app reads it.
    #[derive(Debug, PartialEq, Eq)]
    pub(crate) struct Parsed {
        pub issuer_in_label: String,
        pub account: String,
        pub params: Vec<(String, String)>,
    }

    impl Parsed {
        pub(crate) fn param(&self, name: &str) -> Option<&str> {
            self.params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        }
    }

    fn decode(part: &str) -> String {
        percent_decode_str(part).decode_utf8().unwrap().into_owned()
    }

    /// Splits at the literal separators first and decodes each part after, as a URL parser does: an
    /// escaped `:`, `&`, `=` or `?` inside a value must not split it.
    pub(crate) fn parse(url: &str) -> Parsed {
        let rest = url.strip_prefix("otpauth://totp/").unwrap();
        let (label, query) = rest.split_once('?').unwrap();
        let (issuer, account) = label.split_once(':').unwrap();
        let params = query
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                (decode(k), decode(v))
            })
            .collect();
        Parsed {
            issuer_in_label: decode(issuer),
            account: decode(account),
            params,
        }
    }

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890").unwrap()
    }

    #[test]
    fn a_plain_issuer_and_email_give_the_documented_url() {
        let url = otpauth_url("authd", "ada@example.com", &rfc_secret());
        assert_eq!(
            url.expose(),
            "otpauth://totp/authd:ada%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=authd&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn the_url_round_trips_label_secret_and_issuer() {
        let secret = rfc_secret();
        let url = otpauth_url("authd", "ada.lovelace+2fa@example.com", &secret);
        let parsed = parse(url.expose());
        assert_eq!(parsed.issuer_in_label, "authd");
        assert_eq!(parsed.account, "ada.lovelace+2fa@example.com");
        assert_eq!(parsed.param("issuer"), Some("authd"));
        assert_eq!(
            TotpSecret::from_base32(parsed.param("secret").unwrap())
                .unwrap()
                .as_bytes(),
            secret.as_bytes()
        );
        assert_eq!(parsed.param("algorithm"), Some("SHA1"));
        assert_eq!(parsed.param("digits"), Some("6"));
        assert_eq!(parsed.param("period"), Some("30"));
    }

    #[test]
    fn separators_spaces_and_non_ascii_in_issuer_or_account_are_escaped() {
        let issuer = "Ada & Co: Ünïcode? #1=ok/yes";
        let account = "a:b&issuer=evil@example.com";
        let url = otpauth_url(issuer, account, &rfc_secret());
        let text = url.expose();
        // Exactly one literal label separator and the five expected parameters: nothing leaked through.
        assert_eq!(text.matches(':').count(), 2, "{text}"); // `otpauth:` and the label separator
        assert_eq!(text.matches('&').count(), 4, "{text}");
        assert!(!text.contains(' ') && !text.contains('+') && !text.contains('#'));
        assert!(text.contains("Ada%20%26%20Co%3A%20"), "{text}");
        assert!(text.is_ascii());
        let parsed = parse(text);
        assert_eq!(parsed.issuer_in_label, issuer);
        assert_eq!(parsed.account, account);
        assert_eq!(parsed.param("issuer"), Some(issuer));
        assert_eq!(parsed.params.len(), 5);
    }

    #[test]
    fn debug_output_of_the_url_hides_the_secret() {
        let url = otpauth_url("authd", "ada@example.com", &rfc_secret());
        assert_eq!(format!("{url:?}"), "[redacted]");
    }
}
