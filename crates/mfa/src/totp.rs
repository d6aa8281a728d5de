//! TOTP (RFC 6238): HMAC-SHA1, 6 digits, 30-second steps, one step of clock skew either way.
//!
//! The expected code of a step comes from the `google-authenticator` crate's `get_code`; everything around
//! it is ours, because its own `verify_code` compares with a plain `==` and reads the system clock. We ask
//! for one step at a time from the injected clock's time, compare in constant time, and report which step
//! matched so the caller can store it as the replay guard.

use authd_kernel::{Secret, constant_time_eq};
use google_authenticator::GoogleAuthenticator;
use time::OffsetDateTime;

use crate::TotpSecret;

/// Digits in a code.
pub const DIGITS: usize = 6;

/// Seconds per time step.
pub const STEP_SECONDS: u64 = 30;

/// Steps of clock skew accepted either side of the current one.
pub const SKEW_STEPS: u64 = 1;

/// The time step (`unix seconds / 30`) an instant falls in; `None` before 1970.
pub fn step_at(at: OffsetDateTime) -> Option<u64> {
    u64::try_from(at.unix_timestamp())
        .ok()
        .map(|secs| secs / STEP_SECONDS)
}

/// The code of one time step, or `None` for step 0.
///
/// Step 0 (the first 30 seconds of 1970) is never computed: `google-authenticator` reads the system clock
/// when asked for it, which would silently bypass the injected clock.
pub fn code_at_step(secret: &TotpSecret, step: u64) -> Option<Secret> {
    if step == 0 {
        return None;
    }
    // The crate takes the key as base32 (32 characters for our 20 bytes, within its 16..=128 bound).
    GoogleAuthenticator::new()
        .with_code_length(DIGITS)
        .get_code(secret.to_base32().expose(), step)
        .ok()
        .filter(|code| code.len() == DIGITS)
        .map(Secret::new)
}

/// The code an authenticator app shows at `at` (for tests and tooling; verification never needs it).
pub fn code_at(secret: &TotpSecret, at: OffsetDateTime) -> Option<Secret> {
    code_at_step(secret, step_at(at)?)
}

/// Whether `code` has the shape of a TOTP code: exactly six ASCII digits.
pub fn is_well_formed(code: &str) -> bool {
    code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

/// Checks a presented code against the steps around `at` (now-1, now, now+1), skipping any step at or
/// before `last_used` (the replay guard), and returns the step that matched.
///
/// Every candidate step is computed and compared in constant time, so timing reveals neither how much of a
/// code was right nor which step was tried first. When two steps match (a one-in-a-million coincidence),
/// the earliest one wins, which burns as little of the future as possible.
pub fn verify(
    secret: &TotpSecret,
    code: &str,
    at: OffsetDateTime,
    last_used: Option<u64>,
) -> Option<u64> {
    if !is_well_formed(code) {
        return None;
    }
    let now = step_at(at)?;
    let mut matched = None;
    for step in now.saturating_sub(SKEW_STEPS)..=now.saturating_add(SKEW_STEPS) {
        if last_used.is_some_and(|used| step <= used) {
            continue;
        }
        let Some(expected) = code_at_step(secret, step) else {
            continue;
        };
        if constant_time_eq(expected.expose().as_bytes(), code.as_bytes()) && matched.is_none() {
            matched = Some(step);
        }
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890").unwrap()
    }

    fn at(unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).unwrap()
    }

    /// RFC 6238 appendix B, SHA-1 column: the 8-digit codes' last six digits are the 6-digit codes.
    const RFC_VECTORS: [(i64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    #[test]
    fn codes_match_the_rfc_6238_sha1_test_vectors() {
        for (unix, eight_digits) in RFC_VECTORS {
            let code = code_at(&rfc_secret(), at(unix)).unwrap();
            assert_eq!(code.expose(), &eight_digits[2..], "at {unix}");
        }
    }

    #[test]
    fn the_rfc_vectors_verify_at_their_own_time_and_report_their_step() {
        for (unix, eight_digits) in RFC_VECTORS {
            let step = verify(&rfc_secret(), &eight_digits[2..], at(unix), None);
            assert_eq!(step, Some(unix.unsigned_abs() / 30), "at {unix}");
        }
    }

    #[test]
    fn one_step_of_skew_is_accepted_either_way_and_two_are_refused() {
        let secret = rfc_secret();
        let now = at(1_234_567_890);
        let now_step = step_at(now).unwrap();
        for offset in [-1_i64, 0, 1] {
            let step = now_step.checked_add_signed(offset).unwrap();
            let code = code_at_step(&secret, step).unwrap();
            assert_eq!(
                verify(&secret, code.expose(), now, None),
                Some(step),
                "offset {offset}"
            );
        }
        for offset in [-2_i64, 2] {
            let step = now_step.checked_add_signed(offset).unwrap();
            let code = code_at_step(&secret, step).unwrap();
            assert_eq!(
                verify(&secret, code.expose(), now, None),
                None,
                "offset {offset}"
            );
        }
    }

    #[test]
    fn the_window_follows_step_boundaries_not_seconds() {
        let secret = rfc_secret();
        // 1_234_567_890 is the first second of its step: the previous step's code is still good, the one
        // before is not.
        let start_of_step = at(1_234_567_890);
        assert_eq!(start_of_step.unix_timestamp() % 30, 0);
        let step = step_at(start_of_step).unwrap();
        let previous = code_at_step(&secret, step - 1).unwrap();
        let two_back = code_at_step(&secret, step - 2).unwrap();
        assert!(verify(&secret, previous.expose(), start_of_step, None).is_some());
        assert!(verify(&secret, two_back.expose(), start_of_step, None).is_none());
        // The last second of the step: the next step's code is good, the one after is not.
        let end_of_step = start_of_step + time::Duration::seconds(29);
        let next = code_at_step(&secret, step + 1).unwrap();
        let two_ahead = code_at_step(&secret, step + 2).unwrap();
        assert!(verify(&secret, next.expose(), end_of_step, None).is_some());
        assert!(verify(&secret, two_ahead.expose(), end_of_step, None).is_none());
    }

    #[test]
    fn steps_at_or_before_the_last_used_one_are_refused() {
        let secret = rfc_secret();
        let now = at(1_234_567_890);
        let step = step_at(now).unwrap();
        let code = code_at_step(&secret, step).unwrap();
        assert_eq!(verify(&secret, code.expose(), now, Some(step)), None);
        assert_eq!(verify(&secret, code.expose(), now, Some(step + 1)), None);
        assert_eq!(
            verify(&secret, code.expose(), now, Some(step - 1)),
            Some(step)
        );
    }

    #[test]
    fn anything_but_six_ascii_digits_is_refused_without_panicking() {
        let secret = rfc_secret();
        let now = at(59);
        for code in [
            "",
            "28708",
            "2870822",
            "94287082",
            "28708a",
            " 287082",
            "287082 ",
            "２８７０８２",
            "٢٨٧٠٨٢",
            "28708\u{0}",
            &"9".repeat(1 << 20),
        ] {
            assert_eq!(
                verify(&secret, code, now, None),
                None,
                "{:?}",
                &code[..code.len().min(12)]
            );
        }
        assert_eq!(verify(&secret, "287082", now, None), Some(1));
    }

    #[test]
    fn step_zero_and_times_before_1970_never_produce_a_code() {
        let secret = rfc_secret();
        assert!(code_at_step(&secret, 0).is_none());
        assert!(code_at(&secret, at(-1)).is_none());
        assert!(step_at(at(-1)).is_none());
        assert_eq!(verify(&secret, "000000", at(-30), None), None);
        // At step 1 the window's lower edge is step 0, which is skipped rather than read from the system clock.
        let code = code_at_step(&secret, 1).unwrap();
        assert_eq!(verify(&secret, code.expose(), at(30), None), Some(1));
    }
}
