//! Recovery codes: ten single-use codes like `k7wm-3qfd-x9ha`, shown once and stored only as SHA-256.
//!
//! The alphabet is lowercase `a`-`z` without `l` and `o`, plus the digits `2`-`9`: 32 characters, so each
//! one carries exactly 5 bits and a 12-character code 60 bits. `0`, `1`, `l` and `o`, the characters people
//! misread for one another, never appear; `i` and `8` stay because their look-alikes (`l`, `1`, and the
//! capital `B`, never shown) do not. 60 bits make guessing hopeless within any rate limit, which is also
//! why a fast hash is enough to store them.

use authd_kernel::{Random, Secret, TokenHash};
use time::OffsetDateTime;

use crate::RecoveryCodeHash;

/// Codes per set.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// The characters codes are drawn from (32, so one character is 5 random bits).
pub const RECOVERY_CODE_ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// Characters in a code, without the dashes.
const CODE_CHARS: usize = 12;

/// Characters between dashes.
const GROUP: usize = 4;

/// A longer input cannot be a code once spaces and dashes are dropped; refusing it early bounds the work.
const MAX_INPUT_LEN: usize = 64;

/// A fresh set of recovery codes, shown to the user exactly once.
#[derive(Debug, Clone)]
pub struct RecoveryCodes {
    /// The codes, `xxxx-xxxx-xxxx`.
    pub codes: Vec<Secret>,
    /// When the set was generated.
    pub generated_at: OffsetDateTime,
}

/// One fresh code, `xxxx-xxxx-xxxx`, from 60 random bits.
pub fn generate_recovery_code(random: &impl Random) -> Secret {
    let bits = u64::from_le_bytes(random.bytes());
    let mut code = String::with_capacity(CODE_CHARS + 2);
    for i in 0..CODE_CHARS {
        if i > 0 && i % GROUP == 0 {
            code.push('-');
        }
        // Five bits per character, from the low 60 bits; the top 4 are unused.
        let index = usize::try_from((bits >> (5 * i)) & 0x1F).unwrap_or(0);
        code.push(char::from(RECOVERY_CODE_ALPHABET[index]));
    }
    Secret::new(code)
}

/// The canonical form of a typed code: spaces and dashes dropped, lowercased. `None` when what remains is
/// not 12 ASCII letters and digits (it cannot be a code, so there is nothing to look up).
///
/// Letters outside the alphabet are kept: a wrong code simply matches no stored hash.
pub fn normalise_recovery_code(input: &str) -> Option<String> {
    if input.len() > MAX_INPUT_LEN {
        return None;
    }
    let normalised: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (normalised.len() == CODE_CHARS && normalised.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(normalised)
}

/// The stored form of codes issued before they were keyed: the hex SHA-256 of the normalised form. Still
/// checked, so those codes keep working; new codes are stored keyed
/// ([`crate::SecretCipher::recovery_code_hash`]).
pub fn hash_recovery_code(input: &str) -> Option<RecoveryCodeHash> {
    normalise_recovery_code(input)
        .map(|code| RecoveryCodeHash(TokenHash::of(&code).as_str().to_owned()))
}

/// A set of [`RECOVERY_CODE_COUNT`] codes and their hashes, in the same order.
pub(crate) fn generate_set(
    random: &impl Random,
    now: OffsetDateTime,
    hash: impl Fn(&str) -> Option<RecoveryCodeHash>,
) -> (RecoveryCodes, Vec<RecoveryCodeHash>) {
    let mut codes = Vec::with_capacity(RECOVERY_CODE_COUNT);
    let mut hashes = Vec::with_capacity(RECOVERY_CODE_COUNT);
    while codes.len() < RECOVERY_CODE_COUNT {
        let code = generate_recovery_code(random);
        // Generated codes always normalise; the `if let` only keeps the types honest.
        if let Some(hash) = hash(code.expose()) {
            // A repeat within a set (odds 1 in 2^54) would waste a slot, so draw again.
            if !hashes.contains(&hash) {
                hashes.push(hash);
                codes.push(code);
            }
        }
    }
    (
        RecoveryCodes {
            codes,
            generated_at: now,
        },
        hashes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use authd_kernel::OsRandom;
    use time::macros::datetime;

    #[test]
    fn the_alphabet_has_32_distinct_unambiguous_characters() {
        let mut sorted = RECOVERY_CODE_ALPHABET.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 32);
        for ambiguous in b"01lo" {
            assert!(!RECOVERY_CODE_ALPHABET.contains(ambiguous));
        }
        assert!(
            RECOVERY_CODE_ALPHABET
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        // 12 characters of 5 bits each.
        assert!(CODE_CHARS as f64 * (RECOVERY_CODE_ALPHABET.len() as f64).log2() >= 60.0);
    }

    #[test]
    fn codes_look_like_xxxx_xxxx_xxxx_from_the_alphabet() {
        for _ in 0..200 {
            let code = generate_recovery_code(&OsRandom);
            let text = code.expose();
            assert_eq!(text.len(), 14, "{text}");
            let groups: Vec<&str> = text.split('-').collect();
            assert_eq!(groups.len(), 3, "{text}");
            for group in groups {
                assert_eq!(group.len(), 4);
                assert!(group.bytes().all(|b| RECOVERY_CODE_ALPHABET.contains(&b)));
            }
        }
    }

    #[test]
    fn every_alphabet_character_is_reachable_in_every_position() {
        let mut seen = vec![[false; 32]; CODE_CHARS];
        for _ in 0..2_000 {
            let code = generate_recovery_code(&OsRandom);
            let chars = code.expose().bytes().filter(|b| *b != b'-');
            for (position, c) in chars.enumerate() {
                let index = RECOVERY_CODE_ALPHABET.iter().position(|a| *a == c).unwrap();
                seen[position][index] = true;
            }
        }
        assert!(seen.iter().all(|position| position.iter().all(|s| *s)));
    }

    #[test]
    fn a_set_has_ten_distinct_codes_with_matching_hashes() {
        let (set, hashes) = generate_set(
            &OsRandom,
            datetime!(2026-03-01 09:00 UTC),
            hash_recovery_code,
        );
        assert_eq!(set.codes.len(), RECOVERY_CODE_COUNT);
        assert_eq!(hashes.len(), RECOVERY_CODE_COUNT);
        assert_eq!(set.generated_at, datetime!(2026-03-01 09:00 UTC));
        for (code, hash) in set.codes.iter().zip(&hashes) {
            assert_eq!(hash_recovery_code(code.expose()).as_ref(), Some(hash));
        }
        let mut unique = hashes.clone();
        unique.sort_by(|a, b| a.0.cmp(&b.0));
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODE_COUNT);
    }

    #[test]
    fn typed_variants_of_a_code_normalise_to_the_same_hash() {
        let canonical = hash_recovery_code("abcd-efgh-jkmn").unwrap();
        for typed in [
            "abcd-efgh-jkmn",
            "ABCD-EFGH-JKMN",
            "ABCD EFGH JKMN",
            "  abcdefghjkmn\n",
            "abcd - efgh - jkmn",
            "Ab-Cd\tEf-Gh Jk-Mn",
        ] {
            assert_eq!(
                hash_recovery_code(typed).as_ref(),
                Some(&canonical),
                "{typed:?}"
            );
        }
        assert_eq!(
            normalise_recovery_code("ABCD EFGH JKLM").as_deref(),
            Some("abcdefghjklm")
        );
    }

    #[test]
    fn the_stored_hash_is_the_hex_sha256_of_the_normalised_code() {
        let hash = hash_recovery_code("ABCD-EFGH-JKMN").unwrap();
        assert_eq!(hash.0, TokenHash::of("abcdefghjkmn").as_str());
        assert_eq!(hash.0.len(), 64);
        assert!(hash.0.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn inputs_that_cannot_be_codes_have_no_hash() {
        for input in [
            "",
            "abcd-efgh",
            "abcd-efgh-jkmn-p",
            "abcd_efgh_jkmn",
            "abcd-efgh-jkm!",
            "abcd-efgh-jkmé",
            "ａｂｃｄｅｆｇｈｊｋｍｎ",
            &"-".repeat(10_000),
            &format!("abcd-efgh-jkmn{}", " ".repeat(100)),
        ] {
            assert_eq!(
                hash_recovery_code(input),
                None,
                "{:?}",
                &input[..input.len().min(16)]
            );
        }
    }
}
