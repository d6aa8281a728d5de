//! The MFA use cases (enrol, verify, recovery codes, disable) against the in-memory repository, a fixed
//! clock and seeded randomness.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use authd_kernel::{Client, Clock, EventKind, SecurityEvent, UserId};
use authd_mfa::ports::MfaRepository as _;
use authd_mfa::{
    MfaError, MfaPolicy, MfaService, MfaState, RecoveryCodes, SecretCipher, TotpSecret,
    hash_recovery_code, totp,
};
use authd_testkit::{FixedClock, MemoryMfa, SeededRandom};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use futures_util::FutureExt as _;
use time::Duration;
use time::macros::datetime;

type Service = MfaService<MemoryMfa, FixedClock, SeededRandom>;

const KEY: [u8; 32] = [0x5A; 32];
const ACCOUNT: &str = "ada@example.com";

struct World {
    service: Service,
    repo: MemoryMfa,
    clock: FixedClock,
    random: SeededRandom,
    user: UserId,
}

impl World {
    fn new() -> Self {
        let repo = MemoryMfa::default();
        // Ten seconds into a 30-second step, so "now" is unambiguous.
        let clock = FixedClock::at(datetime!(2026-03-01 09:00:10 UTC));
        let random = SeededRandom::new(7);
        let user = UserId::generate(&clock, &random);
        let service = MfaService::new(
            repo.clone(),
            SecretCipher::new(KEY),
            MfaPolicy::default(),
            clock.clone(),
            random.clone(),
        );
        Self {
            service,
            repo,
            clock,
            random,
            user,
        }
    }

    fn another_user(&self) -> UserId {
        UserId::generate(&self.clock, &self.random)
    }

    fn now_step(&self) -> u64 {
        totp::step_at(self.clock.now()).unwrap()
    }

    /// The code the user's app shows, `offset` steps from now.
    fn code(&self, secret: &TotpSecret, offset: i64) -> String {
        let step = self.now_step().checked_add_signed(offset).unwrap();
        totp::code_at_step(secret, step)
            .unwrap()
            .expose()
            .to_owned()
    }

    /// Six digits that are none of the codes the window accepts now.
    fn wrong_code(&self, secret: &TotpSecret) -> String {
        let window: Vec<String> = (-1..=1).map(|o| self.code(secret, o)).collect();
        ["000000", "111111", "222222", "333333"]
            .into_iter()
            .find(|c| !window.iter().any(|w| w == c))
            .unwrap()
            .to_owned()
    }

    fn setup(&self, user: UserId) -> TotpSecret {
        let output = run(self.service.setup(user, ACCOUNT)).unwrap();
        TotpSecret::from_base32(output.secret_base32.expose()).unwrap()
    }

    /// Setup and confirm with the current code: MFA on, the current step spent.
    fn enrol(&self) -> (TotpSecret, RecoveryCodes) {
        let secret = self.setup(self.user);
        let codes =
            run(self
                .service
                .confirm(self.user, &self.code(&secret, 0), &Client::default()))
            .unwrap();
        (secret, codes)
    }

    fn enabled(&self) -> bool {
        run(self.service.is_enabled(self.user)).unwrap()
    }
}

/// The fakes never suspend, so every future completes on its first poll.
fn run<T>(future: impl std::future::Future<Output = T>) -> T {
    future
        .now_or_never()
        .expect("in-memory fakes never suspend")
}

#[test]
fn setup_returns_the_secret_as_base32_an_otpauth_url_and_a_png_qr_code() {
    let w = World::new();
    let output = run(w.service.setup(w.user, ACCOUNT)).unwrap();
    let secret = output.secret_base32.expose();
    assert_eq!(secret.len(), 32);
    assert_eq!(
        output.otpauth_url.expose(),
        format!(
            "otpauth://totp/authd:ada%40example.com?secret={secret}&issuer=authd&algorithm=SHA1&digits=6&period=30"
        )
    );
    let png = STANDARD.decode(&output.qr_png_base64).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let shown = format!("{output:?}");
    assert!(!shown.contains(secret) && !shown.contains(&output.qr_png_base64));
    let record = w.repo.record(w.user).unwrap();
    assert_eq!(record.state, MfaState::Pending);
    assert_eq!(record.created_at, w.clock.now());
    assert!(!w.enabled());
}

#[test]
fn confirming_with_the_current_code_enables_mfa_and_returns_ten_recovery_codes() {
    let w = World::new();
    let (_, codes) = w.enrol();
    assert_eq!(codes.codes.len(), 10);
    assert_eq!(codes.generated_at, w.clock.now());
    let record = w.repo.record(w.user).unwrap();
    assert_eq!(record.state, MfaState::Enabled);
    assert_eq!(record.last_used_step, Some(w.now_step()));
    assert_eq!(record.enabled_at, Some(w.clock.now()));
    assert_eq!(record.recovery_codes_generated_at, Some(w.clock.now()));
    assert_eq!(w.repo.unused_recovery_codes(w.user).len(), 10);
    assert!(w.enabled());
}

#[test]
fn the_code_that_confirmed_enrolment_cannot_be_replayed_to_sign_in() {
    let w = World::new();
    let (secret, _) = w.enrol();
    let replay = run(w.service.verify(w.user, &w.code(&secret, 0)));
    assert!(matches!(replay, Err(MfaError::InvalidCode)));
}

#[test]
fn the_next_steps_code_is_accepted_once_and_then_refused_as_a_replay() {
    let w = World::new();
    let (secret, _) = w.enrol();
    w.clock.advance(Duration::seconds(30));
    let code = w.code(&secret, 0);
    run(w.service.verify(w.user, &code)).unwrap();
    assert_eq!(
        w.repo.record(w.user).unwrap().last_used_step,
        Some(w.now_step())
    );
    let replay = run(w.service.verify(w.user, &code));
    assert!(matches!(replay, Err(MfaError::InvalidCode)));
}

#[test]
fn codes_one_step_away_are_accepted_but_two_steps_away_and_older_than_the_last_are_not() {
    let w = World::new();
    let (secret, _) = w.enrol();
    w.clock.advance(Duration::minutes(5));
    for offset in [-2, 2] {
        let result = run(w.service.verify(w.user, &w.code(&secret, offset)));
        assert!(
            matches!(result, Err(MfaError::InvalidCode)),
            "offset {offset}"
        );
    }
    for offset in [-1, 0, 1] {
        run(w.service.verify(w.user, &w.code(&secret, offset))).unwrap();
    }
    // Step now+1 was used, so now's code, though never used itself, is older and refused.
    let older = run(w.service.verify(w.user, &w.code(&secret, 0)));
    assert!(matches!(older, Err(MfaError::InvalidCode)));
}

#[test]
fn wrong_and_malformed_codes_are_refused_without_spending_a_step() {
    let w = World::new();
    let (secret, _) = w.enrol();
    w.clock.advance(Duration::seconds(30));
    let huge = "1".repeat(1 << 20);
    let wrong = w.wrong_code(&secret);
    for code in [
        wrong.as_str(),
        "",
        "12345",
        "1234567",
        "12 345",
        "abcdef",
        "１２３４５６",
        "12345\u{1F600}",
        huge.as_str(),
    ] {
        let result = run(w.service.verify(w.user, code));
        assert!(
            matches!(result, Err(MfaError::InvalidCode)),
            "{:?}",
            &code[..code.len().min(12)]
        );
    }
    // Nothing was spent: the current code still works.
    run(w.service.verify(w.user, &w.code(&secret, 0))).unwrap();
}

#[test]
fn setup_while_enabled_is_refused_and_keeps_the_enrolled_secret() {
    let w = World::new();
    w.enrol();
    let before = w.repo.record(w.user).unwrap();
    let again = run(w.service.setup(w.user, ACCOUNT));
    assert!(matches!(again, Err(MfaError::AlreadyEnabled)));
    assert_eq!(w.repo.record(w.user).unwrap(), before);
}

#[test]
fn confirming_without_setup_is_refused() {
    let w = World::new();
    let result = run(w.service.confirm(w.user, "123456", &Client::default()));
    assert!(matches!(result, Err(MfaError::NoPendingEnrolment)));
}

#[test]
fn confirming_twice_is_refused_the_second_time() {
    let w = World::new();
    let (secret, _) = w.enrol();
    w.clock.advance(Duration::seconds(30));
    let again = run(w
        .service
        .confirm(w.user, &w.code(&secret, 0), &Client::default()));
    assert!(matches!(again, Err(MfaError::NoPendingEnrolment)));
}

#[test]
fn confirming_with_a_wrong_code_keeps_the_enrolment_pending() {
    let w = World::new();
    let secret = w.setup(w.user);
    let wrong = run(w
        .service
        .confirm(w.user, &w.wrong_code(&secret), &Client::default()));
    assert!(matches!(wrong, Err(MfaError::InvalidCode)));
    let malformed = run(w.service.confirm(w.user, "not a code", &Client::default()));
    assert!(matches!(malformed, Err(MfaError::InvalidCode)));
    assert_eq!(w.repo.record(w.user).unwrap().state, MfaState::Pending);
    run(w
        .service
        .confirm(w.user, &w.code(&secret, 0), &Client::default()))
    .unwrap();
}

#[test]
fn setup_again_replaces_the_pending_secret() {
    let w = World::new();
    let first = w.setup(w.user);
    let second = w.setup(w.user);
    assert_ne!(first.as_bytes(), second.as_bytes());
    let old_code = w.code(&first, 0);
    if old_code != w.code(&second, 0) {
        let stale = run(w.service.confirm(w.user, &old_code, &Client::default()));
        assert!(matches!(stale, Err(MfaError::InvalidCode)));
    }
    run(w
        .service
        .confirm(w.user, &w.code(&second, 0), &Client::default()))
    .unwrap();
}

#[test]
fn a_recovery_code_signs_in_once_however_it_is_typed() {
    let w = World::new();
    let (_, codes) = w.enrol();
    let code = codes.codes[3].expose();
    let typed = format!("  {}  ", code.to_uppercase().replace('-', " "));
    run(w
        .service
        .verify_recovery(w.user, &typed, &Client::default()))
    .unwrap();
    let again = run(w.service.verify_recovery(w.user, code, &Client::default()));
    assert!(matches!(again, Err(MfaError::InvalidCode)));
    assert_eq!(w.repo.unused_recovery_codes(w.user).len(), 9);
    // The others still work.
    run(w
        .service
        .verify_recovery(w.user, codes.codes[4].expose(), &Client::default()))
    .unwrap();
}

#[test]
fn unknown_and_malformed_recovery_codes_are_refused() {
    let w = World::new();
    w.enrol();
    let huge = "a".repeat(1 << 20);
    for code in [
        "aaaa-bbbb-cccc",
        "",
        "123456",
        "aaaa-bbbb",
        "ääää-bbbb-cccc",
        huge.as_str(),
    ] {
        let result = run(w.service.verify_recovery(w.user, code, &Client::default()));
        assert!(
            matches!(result, Err(MfaError::InvalidCode)),
            "{:?}",
            &code[..code.len().min(16)]
        );
    }
    assert_eq!(w.repo.unused_recovery_codes(w.user).len(), 10);
}

#[test]
fn recovery_codes_of_one_user_do_not_work_for_another() {
    let w = World::new();
    let (_, codes) = w.enrol();
    let other = w.another_user();
    let secret = w.setup(other);
    run(w
        .service
        .confirm(other, &w.code(&secret, 0), &Client::default()))
    .unwrap();
    let result = run(w
        .service
        .verify_recovery(other, codes.codes[0].expose(), &Client::default()));
    assert!(matches!(result, Err(MfaError::InvalidCode)));
}

#[test]
fn regenerating_recovery_codes_invalidates_the_old_set() {
    let w = World::new();
    let (_, old) = w.enrol();
    w.clock.advance(Duration::hours(1));
    let new = run(w
        .service
        .regenerate_recovery_codes(w.user, &Client::default()))
    .unwrap();
    assert_eq!(new.codes.len(), 10);
    assert_eq!(new.generated_at, w.clock.now());
    assert_eq!(
        w.repo.record(w.user).unwrap().recovery_codes_generated_at,
        Some(w.clock.now())
    );
    assert_eq!(w.repo.recovery_code_count(w.user), 10);
    for code in &old.codes {
        let result = run(w
            .service
            .verify_recovery(w.user, code.expose(), &Client::default()));
        assert!(matches!(result, Err(MfaError::InvalidCode)));
    }
    run(w
        .service
        .verify_recovery(w.user, new.codes[0].expose(), &Client::default()))
    .unwrap();
}

#[test]
fn disabling_with_a_totp_code_erases_the_secret_and_the_recovery_codes() {
    let w = World::new();
    let (secret, codes) = w.enrol();
    w.clock.advance(Duration::seconds(30));
    run(w
        .service
        .disable(w.user, &w.code(&secret, 0), &Client::default()))
    .unwrap();
    let record = w.repo.record(w.user).unwrap();
    assert_eq!(record.state, MfaState::Disabled);
    assert!(record.secret.0.is_empty());
    assert_eq!(record.disabled_at, Some(w.clock.now()));
    assert_eq!(w.repo.recovery_code_count(w.user), 0);
    assert!(!w.enabled());
    w.clock.advance(Duration::seconds(30));
    let verify = run(w.service.verify(w.user, &w.code(&secret, 0)));
    assert!(matches!(verify, Err(MfaError::NotEnabled)));
    let recovery =
        run(w
            .service
            .verify_recovery(w.user, codes.codes[0].expose(), &Client::default()));
    assert!(matches!(recovery, Err(MfaError::NotEnabled)));
}

#[test]
fn disabling_with_a_recovery_code_turns_mfa_off() {
    let w = World::new();
    let (_, codes) = w.enrol();
    run(w.service.disable(
        w.user,
        &codes.codes[9].expose().to_uppercase(),
        &Client::default(),
    ))
    .unwrap();
    assert!(!w.enabled());
    assert_eq!(w.repo.recovery_code_count(w.user), 0);
}

#[test]
fn disabling_with_a_replayed_wrong_or_spent_code_is_refused_and_keeps_mfa_on() {
    let w = World::new();
    let (secret, codes) = w.enrol();
    let replayed = run(w
        .service
        .disable(w.user, &w.code(&secret, 0), &Client::default()));
    assert!(matches!(replayed, Err(MfaError::InvalidCode)));
    let wrong = run(w
        .service
        .disable(w.user, "aaaa-bbbb-cccc", &Client::default()));
    assert!(matches!(wrong, Err(MfaError::InvalidCode)));
    run(w
        .service
        .verify_recovery(w.user, codes.codes[0].expose(), &Client::default()))
    .unwrap();
    let spent = run(w
        .service
        .disable(w.user, codes.codes[0].expose(), &Client::default()));
    assert!(matches!(spent, Err(MfaError::InvalidCode)));
    assert!(w.enabled());
    assert_eq!(w.repo.unused_recovery_codes(w.user).len(), 9);
}

#[test]
fn everything_but_setup_and_confirm_needs_mfa_enabled() {
    let w = World::new();
    // First with nothing stored, then with an enrolment that is only pending.
    for pending in [false, true] {
        if pending {
            w.setup(w.user);
        }
        let verify = run(w.service.verify(w.user, "123456"));
        assert!(matches!(verify, Err(MfaError::NotEnabled)), "{pending}");
        let recovery = run(w
            .service
            .verify_recovery(w.user, "aaaa-bbbb-cccc", &Client::default()));
        assert!(matches!(recovery, Err(MfaError::NotEnabled)), "{pending}");
        let disable = run(w.service.disable(w.user, "123456", &Client::default()));
        assert!(matches!(disable, Err(MfaError::NotEnabled)), "{pending}");
        let regenerate = run(w
            .service
            .regenerate_recovery_codes(w.user, &Client::default()));
        assert!(matches!(regenerate, Err(MfaError::NotEnabled)), "{pending}");
        assert!(!w.enabled());
    }
}

#[test]
fn after_disabling_the_user_can_enrol_again_with_a_new_secret() {
    let w = World::new();
    let (old_secret, old_codes) = w.enrol();
    run(w
        .service
        .disable(w.user, old_codes.codes[0].expose(), &Client::default()))
    .unwrap();
    let confirm_before_setup =
        run(w
            .service
            .confirm(w.user, &w.code(&old_secret, 0), &Client::default()));
    assert!(matches!(
        confirm_before_setup,
        Err(MfaError::NoPendingEnrolment)
    ));
    w.clock.advance(Duration::seconds(30));
    let new_secret = w.setup(w.user);
    assert_ne!(new_secret.as_bytes(), old_secret.as_bytes());
    let new_codes = run(w
        .service
        .confirm(w.user, &w.code(&new_secret, 0), &Client::default()))
    .unwrap();
    assert!(w.enabled());
    let old =
        run(w
            .service
            .verify_recovery(w.user, old_codes.codes[1].expose(), &Client::default()));
    assert!(matches!(old, Err(MfaError::InvalidCode)));
    run(w
        .service
        .verify_recovery(w.user, new_codes.codes[1].expose(), &Client::default()))
    .unwrap();
}

#[test]
fn the_stored_secret_is_encrypted_and_decrypts_only_with_the_key_for_its_user() {
    let w = World::new();
    let secret = w.setup(w.user);
    let stored = w.repo.record(w.user).unwrap().secret;
    assert!(
        !stored
            .0
            .windows(20)
            .any(|window| window == secret.as_bytes())
    );
    assert!(
        !stored
            .0
            .windows(32)
            .any(|window| window == secret.to_base32().expose().as_bytes())
    );
    let plaintext = SecretCipher::new(KEY).decrypt(w.user, &stored).unwrap();
    assert_eq!(plaintext, secret.as_bytes());
    let other_key = SecretCipher::new([0xA5; 32]).decrypt(w.user, &stored);
    assert!(matches!(other_key, Err(MfaError::Crypto(_))));
    let other_user = SecretCipher::new(KEY).decrypt(w.another_user(), &stored);
    assert!(matches!(other_user, Err(MfaError::Crypto(_))));
}

#[test]
fn a_secret_row_copied_onto_another_user_is_unreadable_rather_than_accepted() {
    let w = World::new();
    let secret = w.setup(w.user);
    let stored = w.repo.record(w.user).unwrap().secret;
    let other = w.another_user();
    assert!(run(w.repo.save_pending(other, &stored, w.clock.now())).unwrap());
    let result = run(w
        .service
        .confirm(other, &w.code(&secret, 0), &Client::default()));
    assert!(matches!(result, Err(MfaError::Crypto(_))));
}

#[test]
fn recovery_codes_are_stored_only_as_hashes() {
    let w = World::new();
    let (_, codes) = w.enrol();
    let stored = w.repo.unused_recovery_codes(w.user);
    let cipher = SecretCipher::new(KEY);
    for code in &codes.codes {
        let keyed = cipher.recovery_code_hash(w.user, code.expose()).unwrap();
        assert!(stored.contains(&keyed));
        assert!(
            !stored.contains(&hash_recovery_code(code.expose()).unwrap()),
            "stored unkeyed"
        );
        let plain = code.expose().replace('-', "");
        assert!(!stored.iter().any(|h| h.0.contains(&plain)));
    }
    assert!(!format!("{codes:?}").contains(codes.codes[0].expose()));
}

#[test]
fn recovery_code_hashes_are_keyed_by_the_service_key_and_bound_to_the_user() {
    let w = World::new();
    let code = "abcd-efgh-jkmn";
    let cipher = SecretCipher::new(KEY);
    let mine = cipher.recovery_code_hash(w.user, code).unwrap();
    assert_eq!(
        mine,
        cipher
            .recovery_code_hash(w.user, " ABCD efgh-JKMN ")
            .unwrap()
    );
    assert_ne!(
        mine,
        cipher.recovery_code_hash(w.another_user(), code).unwrap()
    );
    assert_ne!(
        mine,
        SecretCipher::new([0x11; 32])
            .recovery_code_hash(w.user, code)
            .unwrap()
    );
    assert_ne!(mine, hash_recovery_code(code).unwrap());
}

#[test]
fn codes_stored_before_they_were_keyed_still_sign_in_once() {
    let w = World::new();
    w.enrol();
    let legacy = ["abcd-efgh-jkmn", "pqrs-tuvw-xyz2"];
    let hashes: Vec<_> = legacy
        .iter()
        .map(|c| hash_recovery_code(c).unwrap())
        .collect();
    run(w.repo.replace_recovery_codes(
        w.user,
        &hashes,
        w.clock.now(),
        &SecurityEvent::new(
            EventKind::RecoveryCodesRegenerated,
            w.user,
            &Client::default(),
            &w.clock,
            &w.random,
        ),
    ))
    .unwrap();
    run(w
        .service
        .verify_recovery(w.user, legacy[0], &Client::default()))
    .unwrap();
    let again = run(w
        .service
        .verify_recovery(w.user, legacy[0], &Client::default()));
    assert!(matches!(again, Err(MfaError::InvalidCode)), "{again:?}");
}
