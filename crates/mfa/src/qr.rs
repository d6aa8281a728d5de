//! The enrolment QR code: the otpauth URL as a PNG, rendered here so the secret never leaves the process.
//!
//! `qrcode` computes the module matrix (without its `image` feature, which would pull a whole image
//! stack); we scale it to a greyscale bitmap with the quiet zone the QR standard asks for and encode it
//! with `png`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use qrcode::{Color, EcLevel, QrCode};

use crate::MfaError;

/// Pixels per module: large enough for phone cameras at arm's length, small enough for a modest PNG.
const MODULE_PX: usize = 8;

/// Light modules around the code, as the QR standard requires for reliable scanning.
const QUIET_ZONE: usize = 4;

/// The QR code of `data` as PNG bytes (8-bit greyscale, black on white).
///
/// # Errors
/// [`MfaError::Crypto`] (the only fitting variant of the fixed error enum: an internal failure) when the
/// data is too long for any QR code (about 2,300 bytes); an otpauth URL for an email and a sensible issuer
/// is a few hundred.
pub fn qr_png(data: &str) -> Result<Vec<u8>, MfaError> {
    // Medium error correction scans well on screens; low correction holds more, for very long labels.
    let code = QrCode::with_error_correction_level(data, EcLevel::M)
        .or_else(|_| QrCode::with_error_correction_level(data, EcLevel::L))
        .map_err(|err| MfaError::Crypto(format!("cannot draw the enrolment QR code: {err}")))?;
    let modules = code.width();
    let colors = code.to_colors();
    let side_modules = modules + 2 * QUIET_ZONE;
    let side = side_modules * MODULE_PX;

    let mut pixels = vec![u8::MAX; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (index % modules + QUIET_ZONE, index / modules + QUIET_ZONE);
        for row in my * MODULE_PX..(my + 1) * MODULE_PX {
            let start = row * side + mx * MODULE_PX;
            if let Some(span) = pixels.get_mut(start..start + MODULE_PX) {
                span.fill(0);
            }
        }
    }

    let side =
        u32::try_from(side).map_err(|_| MfaError::Crypto("enrolment QR code too large".into()))?;
    let mut png_bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut png_bytes, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let png_error = |err: png::EncodingError| {
        MfaError::Crypto(format!("cannot encode the enrolment QR code: {err}"))
    };
    let mut writer = encoder.write_header().map_err(png_error)?;
    writer.write_image_data(&pixels).map_err(png_error)?;
    writer.finish().map_err(png_error)?;
    Ok(png_bytes)
}

/// [`qr_png`], base64-encoded (standard alphabet, padded) for a JSON body.
///
/// # Errors
/// As [`qr_png`].
pub fn qr_png_base64(data: &str) -> Result<String, MfaError> {
    qr_png(data).map(|png| STANDARD.encode(png))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TotpSecret;
    use crate::otpauth::otpauth_url;
    use crate::otpauth::tests::parse;

    /// Decodes a PNG to greyscale pixels and reads every QR code in it with `rqrr`, an independent decoder.
    fn scan(png_bytes: &[u8]) -> (u32, u32, Vec<String>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buf).unwrap();
        assert_eq!(frame.color_type, png::ColorType::Grayscale);
        assert_eq!(frame.bit_depth, png::BitDepth::Eight);
        let (w, h) = (frame.width as usize, frame.height as usize);
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
        let contents = image
            .detect_grids()
            .into_iter()
            .map(|grid| grid.decode().unwrap().1)
            .collect();
        (frame.width, frame.height, contents)
    }

    #[test]
    fn the_png_scans_back_to_the_otpauth_url() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890").unwrap();
        let url = otpauth_url("authd", "ada@example.com", &secret);
        let png_bytes = qr_png(url.expose()).unwrap();
        assert!(png_bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        let (width, height, contents) = scan(&png_bytes);
        assert_eq!(width, height);
        assert_eq!(width as usize % MODULE_PX, 0);
        assert_eq!(contents, vec![url.expose().to_owned()]);
        let parsed = parse(&contents[0]);
        assert_eq!(parsed.account, "ada@example.com");
        assert_eq!(parsed.param("secret"), Some(secret.to_base32().expose()));
    }

    #[test]
    fn a_long_label_with_escapes_still_scans() {
        let secret = TotpSecret::from_bytes(&[0xA5; 20]).unwrap();
        let account = format!("{}@example.com", "very.long.local-part".repeat(3));
        let url = otpauth_url("Ada & Co: Ünïcode issuer", &account, &secret);
        let (_, _, contents) = scan(&qr_png(url.expose()).unwrap());
        assert_eq!(contents, vec![url.expose().to_owned()]);
    }

    #[test]
    fn base64_is_the_standard_alphabet_of_the_same_png() {
        let encoded = qr_png_base64("otpauth://totp/authd:x?secret=AAAA").unwrap();
        let decoded = STANDARD.decode(&encoded).unwrap();
        assert!(decoded.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(
            decoded,
            qr_png("otpauth://totp/authd:x?secret=AAAA").unwrap()
        );
    }

    #[test]
    fn data_too_long_for_any_qr_code_is_an_error_not_a_panic() {
        let err = qr_png(&"x".repeat(10_000)).unwrap_err();
        assert!(matches!(err, MfaError::Crypto(_)));
    }
}
