//! MPEG Layer III frame search, ported from mimetype 1.4.15's `internal/mp3`.

const HEADER: usize = 4;
const MIN_TRUNCATED_SYNC_MATCHES: usize = 2;
const MAX_FRAME_SYNC_MATCHES: usize = 10;

#[derive(Clone, Copy)]
struct Header([u8; HEADER]);

impl Header {
    fn at(b: &[u8], i: usize) -> Header {
        Header([b[i], b[i + 1], b[i + 2], b[i + 3]])
    }
    fn is_free_format(self) -> bool {
        self.0[2] & 0xF0 == 0
    }
    fn is_mpeg1(self) -> bool {
        self.0[1] & 0x8 != 0
    }
    fn is_mpeg25(self) -> bool {
        self.0[1] & 0x10 == 0
    }
    fn raw_layer(self) -> u8 {
        (self.0[1] >> 1) & 3
    }
    fn raw_bitrate(self) -> u8 {
        self.0[2] >> 4
    }
    fn raw_sample_rate(self) -> u8 {
        (self.0[2] >> 2) & 3
    }
    fn raw_emphasis(self) -> u8 {
        self.0[3] & 0b11
    }
    fn is_frame576(self) -> bool {
        self.0[1] & 14 == 2
    }
    fn padding(self) -> usize {
        usize::from(self.0[2] & 0x2 != 0)
    }
    /// A syntactically valid Layer III header (free-format excluded).
    fn valid(self) -> bool {
        self.0[0] == 0xff
            && ((self.0[1] & 0xF0) == 0xf0 || (self.0[1] & 0xFE) == 0xe2)
            && self.raw_layer() == 1
            && self.raw_bitrate() != 15
            && self.raw_sample_rate() != 3
            && self.raw_emphasis() != 2
            && !self.is_free_format()
    }
    /// Same MPEG version, layer and sample rate.
    fn compatible_with(self, o: Header) -> bool {
        o.valid() && (self.0[1] ^ o.0[1]) & 0xFE == 0 && (self.0[2] ^ o.0[2]) & 0x0C == 0
    }
    fn bitrate_kbps(self) -> usize {
        const HALF: [[u8; 15]; 2] = [
            [0, 4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 72, 80],
            [0, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160],
        ];
        // raw_bitrate is at most 14 for a valid header; 15 reads as 0 here.
        let row = &HALF[usize::from(self.is_mpeg1())];
        2 * usize::from(*row.get(usize::from(self.raw_bitrate())).unwrap_or(&0))
    }
    fn sample_rate_hz(self) -> usize {
        let mut base = [44100, 48000, 32000]
            .get(usize::from(self.raw_sample_rate()))
            .copied()
            .unwrap_or(0);
        if !self.is_mpeg1() {
            base >>= 1;
        }
        if self.is_mpeg25() {
            base >>= 1;
        }
        base
    }
    fn frame_bytes(self) -> usize {
        let (br, sr) = (self.bitrate_kbps(), self.sample_rate_hz());
        if br == 0 || sr == 0 {
            return 0;
        }
        let samples = if self.is_frame576() { 576 } else { 1152 };
        samples * br * 125 / sr
    }
}

/// Whether a Layer III frame, confirmed by the frames after it, starts within the first 2 KiB.
pub(crate) fn has_frame(b: &[u8]) -> bool {
    let limit = b.len().min(2048 + HEADER);
    if limit < HEADER {
        return false;
    }
    let end = limit - HEADER;
    let mut i = 0;
    while i < end {
        let Some(j) = b[i..end].iter().position(|&c| c == 0xFF) else {
            break;
        };
        i += j;
        let hdr = Header::at(b, i);
        if hdr.valid() {
            let frame = hdr.frame_bytes();
            let frame_and_pad = frame + hdr.padding();
            let valid_here = frame > 0 && i + frame_and_pad <= b.len() && match_frame(&b[i..]);
            let exact = i == 0 && frame_and_pad == b.len();
            if valid_here || exact {
                return true;
            }
        }
        i += 1;
    }
    false
}

fn match_frame(buf: &[u8]) -> bool {
    let hdr = Header::at(buf, 0);
    let mut i = hdr.frame_bytes() + hdr.padding();
    for n in 0..MAX_FRAME_SYNC_MATCHES {
        if i + HEADER > buf.len() {
            return n >= MIN_TRUNCATED_SYNC_MATCHES;
        }
        let cmp = Header::at(buf, i);
        if !hdr.compatible_with(cmp) {
            return false;
        }
        i += cmp.frame_bytes() + cmp.padding();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::has_frame;

    #[test]
    fn finds_frames_after_garbage() {
        // MPEG-1 Layer III, 128 kbps, 44.1 kHz, no padding: 417-byte frames.
        let frame = {
            let mut f = vec![0u8; 417];
            f[..4].copy_from_slice(&[0xFF, 0xFB, 0x90, 0x00]);
            f
        };
        let mut data = b"garbage!".to_vec();
        for _ in 0..4 {
            data.extend_from_slice(&frame);
        }
        assert!(has_frame(&data));
        assert!(!has_frame(&[0xFF; 100][..]));
        assert!(!has_frame(b"\xFF\xFB"));
    }
}
