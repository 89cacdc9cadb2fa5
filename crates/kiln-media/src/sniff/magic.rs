//! Signatures of binary formats, ported from mimetype 1.4.15's `internal/magic` (the detector
//! PocketBase 0.40.6 uses). Every function receives at most the first 4096 bytes of a file.

use super::scan::{self, be16, be32, le16, le32, offset};

// --- archives -------------------------------------------------------------------------------

pub(crate) fn seven_z(r: &[u8]) -> bool {
    r.starts_with(&[0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C])
}
pub(crate) fn gzip(r: &[u8]) -> bool {
    r.starts_with(&[0x1f, 0x8b])
}
pub(crate) fn fits(r: &[u8]) -> bool {
    r.starts_with(b"SIMPLE  =                    T")
}
pub(crate) fn xar(r: &[u8]) -> bool {
    r.starts_with(b"xar!")
}
pub(crate) fn bz2(r: &[u8]) -> bool {
    r.starts_with(b"BZh")
}
pub(crate) fn ar(r: &[u8]) -> bool {
    r.starts_with(b"!<arch>")
}
pub(crate) fn deb(r: &[u8]) -> bool {
    offset(r, b"debian-binary", 8)
}
pub(crate) fn cab(r: &[u8]) -> bool {
    r.starts_with(b"MSCF\x00\x00\x00\x00")
}
pub(crate) fn xz(r: &[u8]) -> bool {
    r.starts_with(&[0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00])
}
pub(crate) fn lzip(r: &[u8]) -> bool {
    r.starts_with(b"LZIP")
}
pub(crate) fn rpm(r: &[u8]) -> bool {
    r.starts_with(&[0xed, 0xab, 0xee, 0xdb]) || r.starts_with(b"drpm")
}
pub(crate) fn rar(r: &[u8]) -> bool {
    r.starts_with(b"Rar!\x1A\x07\x00") || r.starts_with(b"Rar!\x1A\x07\x01\x00")
}
pub(crate) fn install_shield_cab(r: &[u8]) -> bool {
    r.len() > 7 && &r[0..4] == b"ISc(" && r[6] == 0 && matches!(r[7], 1 | 2 | 4)
}
pub(crate) fn zstd(r: &[u8]) -> bool {
    if r.len() < 4 {
        return false;
    }
    let sig = le32(r);
    (0xFD2FB522..=0xFD2FB528).contains(&sig) || (0x184D2A50..=0x184D2A5F).contains(&sig)
}
pub(crate) fn crx(r: &[u8]) -> bool {
    if r.len() < 16 || !r.starts_with(b"Cr24") {
        return false;
    }
    let zip_offset = 16u64 + u64::from(le32(&r[8..12])) + u64::from(le32(&r[12..16]));
    match usize::try_from(zip_offset) {
        Ok(o) if o <= r.len() => super::office::zip(&r[o..]),
        _ => false,
    }
}
pub(crate) fn cpio(r: &[u8]) -> bool {
    r.len() >= 6
        && (le16(r) == 0o070707
            || r.starts_with(b"070707")
            || r.starts_with(b"070701")
            || r.starts_with(b"070702"))
}
pub(crate) fn tar(r: &[u8]) -> bool {
    const RECORD: usize = 512;
    if r.len() < RECORD {
        return false;
    }
    let r = &r[..RECORD];
    if scan::contains(&r[..100], b"/gpkg-1\x00") {
        return false;
    }
    let Some(recorded) = tar_octal(&r[148..156]) else {
        return false;
    };
    let (mut unsigned, mut signed) = (0i64, 0i64);
    for (i, &c) in r.iter().enumerate() {
        let c = if (148..156).contains(&i) { b' ' } else { c };
        unsigned += i64::from(c);
        signed += i64::from(c as i8);
    }
    recorded == unsigned || recorded == signed
}
fn tar_octal(b: &[u8]) -> Option<i64> {
    let start = b.iter().position(|&c| c != b' ' && c != 0)?;
    let end = b.iter().rposition(|&c| c != b' ' && c != 0)? + 1;
    let mut ret = 0i64;
    for &c in &b[start..end] {
        if c == 0 {
            break;
        }
        if !(b'0'..=b'7').contains(&c) {
            return None;
        }
        ret = (ret << 3) | i64::from(c - b'0');
    }
    Some(ret)
}
pub(crate) fn zlib(r: &[u8]) -> bool {
    r.len() > 1 && r[0] == b'x' && be16(r).is_multiple_of(31) && !super::text::text(r)
}

// --- documents --------------------------------------------------------------------------------

pub(crate) fn pdf(r: &[u8]) -> bool {
    scan::contains(&r[..r.len().min(1024)], b"%PDF-")
}
pub(crate) fn fdf(r: &[u8]) -> bool {
    r.starts_with(b"%FDF")
}
pub(crate) fn ps(r: &[u8]) -> bool {
    r.starts_with(b"%!PS-Adobe-")
}
pub(crate) fn mobi(r: &[u8]) -> bool {
    offset(r, b"BOOKMOBI", 60)
}
pub(crate) fn lit(r: &[u8]) -> bool {
    r.starts_with(b"ITOLITLS")
}
pub(crate) fn djvu(r: &[u8]) -> bool {
    r.len() >= 12
        && r.starts_with(b"AT&TFORM")
        && [b"DJVM", b"DJVU", b"DJVI", b"THUM"]
            .iter()
            .any(|s| r[12..].starts_with(*s))
}
pub(crate) fn p7s(r: &[u8]) -> bool {
    if r.starts_with(b"-----BEGIN PKCS7") {
        return true;
    }
    if r.len() < 20 {
        return false;
    }
    const SIGNED_DATA: [u8; 10] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07];
    (0..5u8).any(|i| {
        r.starts_with(&[0x30, 0x80 + i]) && r[usize::from(i) + 2..].starts_with(&SIGNED_DATA)
    })
}
pub(crate) fn lotus123(r: &[u8]) -> bool {
    if r.len() <= 20 {
        return false;
    }
    match be32(r) {
        0x0000_0200 => r[6] != 0 && r[7] == 0,
        0x0000_1a00 => r[20] > 0 && r[20] < 32,
        _ => false,
    }
}
pub(crate) fn chm(r: &[u8]) -> bool {
    r.starts_with(b"ITSF\x03\x00\x00\x00\x60\x00\x00\x00")
}
pub(crate) fn inf(r: &[u8]) -> bool {
    r.starts_with(b"HSP\x01\x9b\x00")
}
pub(crate) fn hlp(r: &[u8]) -> bool {
    r.starts_with(b"HSP\x10\x9b\x00")
}
pub(crate) fn frame_maker(r: &[u8]) -> bool {
    if !r.starts_with(b"<MakerFile")
        && !r.starts_with(b"<MakerDictionary")
        && scan::match_at(r, b"<BOOKFILE", scan::Flags::IGNORE_CASE).is_none()
    {
        return false;
    }
    r[..r.len().min(512)].contains(&0)
}
pub(crate) fn wpd(r: &[u8]) -> bool {
    r.len() >= 10 && r.starts_with(b"\xffWPC") && r[8] == 1 && r[9] == 10
}

// --- images -----------------------------------------------------------------------------------

pub(crate) fn png(r: &[u8]) -> bool {
    r.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A])
}
/// Animated PNG: an `acTL` chunk before the first `IDAT` (among the first 32 chunks).
pub(crate) fn apng(r: &[u8]) -> bool {
    let mut b = r;
    scan::advance(&mut b, 8);
    for _ in 0..32 {
        if b.is_empty() {
            break;
        }
        let size = if b.len() >= 4 {
            let v = be32(b);
            b = &b[4..];
            v
        } else {
            0
        };
        if b.starts_with(b"acTL") {
            return true;
        }
        if b.starts_with(b"IDAT") {
            return false;
        }
        // Go's int(sz + 8) wraps in uint32 before converting.
        if !scan::advance(&mut b, size.wrapping_add(8) as usize) {
            return false;
        }
    }
    false
}
pub(crate) fn jpg(r: &[u8]) -> bool {
    r.starts_with(&[0xFF, 0xD8, 0xFF])
}
fn jpeg2k(r: &[u8], sig: &[u8]) -> bool {
    r.len() >= 24 && (&r[4..8] == b"jP  " || &r[4..8] == b"jP2 ") && &r[20..24] == sig
}
pub(crate) fn jp2(r: &[u8]) -> bool {
    jpeg2k(r, b"jp2 ")
}
pub(crate) fn jpx(r: &[u8]) -> bool {
    jpeg2k(r, b"jpx ")
}
pub(crate) fn jpm(r: &[u8]) -> bool {
    jpeg2k(r, b"jpm ")
}
pub(crate) fn jxl(r: &[u8]) -> bool {
    r.starts_with(&[0xFF, 0x0A]) || r.starts_with(b"\x00\x00\x00\x0cJXL\x20\x0d\x0a\x87\x0a")
}
pub(crate) fn jxs(r: &[u8]) -> bool {
    r.starts_with(&[
        0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x53, 0x20, 0x0D, 0x0A, 0x87, 0x0A,
    ])
}
pub(crate) fn jxr(r: &[u8]) -> bool {
    r.starts_with(&[0x49, 0x49, 0xBC, 0x01])
}
pub(crate) fn gif(r: &[u8]) -> bool {
    r.starts_with(b"GIF87a") || r.starts_with(b"GIF89a")
}
pub(crate) fn webp(r: &[u8]) -> bool {
    r.len() > 12 && &r[0..4] == b"RIFF" && &r[8..12] == b"WEBP"
}
pub(crate) fn bmp(r: &[u8]) -> bool {
    r.len() >= 18
        && r[0] == b'B'
        && r[1] == b'M'
        && [48, 24, 16, 64, 52, 56, 40, 124, 108].contains(&le32(&r[14..18]))
}
pub(crate) fn tiff(r: &[u8]) -> bool {
    r.starts_with(&[0x49, 0x49, 0x2A, 0x00]) || r.starts_with(&[0x4D, 0x4D, 0x00, 0x2A])
}
pub(crate) fn ico(r: &[u8]) -> bool {
    r.starts_with(&[0x00, 0x00, 0x01, 0x00]) || r.starts_with(&[0x00, 0x00, 0x02, 0x00])
}
pub(crate) fn icns(r: &[u8]) -> bool {
    r.starts_with(b"icns")
}
pub(crate) fn psd(r: &[u8]) -> bool {
    r.starts_with(b"8BPS")
}
pub(crate) fn bpg(r: &[u8]) -> bool {
    r.starts_with(&[0x42, 0x50, 0x47, 0xFB])
}
pub(crate) fn xcf(r: &[u8]) -> bool {
    r.starts_with(b"gimp xcf")
}
pub(crate) fn pat(r: &[u8]) -> bool {
    offset(r, b"GPAT", 20)
}
pub(crate) fn gbr(r: &[u8]) -> bool {
    offset(r, b"GIMP", 20)
}
pub(crate) fn hdr(r: &[u8]) -> bool {
    r.starts_with(b"#?RADIANCE\n")
}
pub(crate) fn xpm(r: &[u8]) -> bool {
    r.starts_with(b"/* XPM */")
}
pub(crate) fn dwg(r: &[u8]) -> bool {
    const VERSIONS: [&[u8; 4]; 15] = [
        b"1.40", b"1.50", b"2.10", b"1002", b"1003", b"1004", b"1006", b"1009", b"1012", b"1014",
        b"1015", b"1018", b"1021", b"1024", b"1032",
    ];
    r.len() >= 6 && r[0] == b'A' && r[1] == b'C' && VERSIONS.iter().any(|v| &r[2..6] == *v)
}
pub(crate) fn dxf(r: &[u8]) -> bool {
    r.starts_with(b"  0\x0ASECTION\x0A")
        || r.starts_with(b"  0\x0D\x0ASECTION\x0D\x0A")
        || r.starts_with(b"0\x0ASECTION\x0A")
        || r.starts_with(b"0\x0D\x0ASECTION\x0D\x0A")
}

// --- audio and video --------------------------------------------------------------------------

pub(crate) fn ogg(r: &[u8]) -> bool {
    r.starts_with(b"OggS\x00")
}
pub(crate) fn ogg_audio(r: &[u8]) -> bool {
    r.len() >= 37
        && [
            &b"\x7fFLAC"[..],
            b"\x01vorbis",
            b"OpusHead",
            b"Speex\x20\x20\x20",
        ]
        .iter()
        .any(|s| r[28..].starts_with(s))
}
pub(crate) fn ogg_video(r: &[u8]) -> bool {
    r.len() >= 37
        && [&b"\x80theora"[..], b"fishead\x00", b"\x01video\x00\x00\x00"]
            .iter()
            .any(|s| r[28..].starts_with(s))
}
pub(crate) fn flac(r: &[u8]) -> bool {
    r.starts_with(b"fLaC\x00\x00\x00\x22")
}
pub(crate) fn midi(r: &[u8]) -> bool {
    r.starts_with(b"MThd")
}
pub(crate) fn ape(r: &[u8]) -> bool {
    r.starts_with(b"MAC \x96\x0F\x00\x00\x34\x00\x00\x00\x18\x00\x00\x00\x90\xE3")
}
pub(crate) fn muse_pack(r: &[u8]) -> bool {
    r.starts_with(b"MPCK")
}
pub(crate) fn au(r: &[u8]) -> bool {
    r.starts_with(b".snd")
}
pub(crate) fn amr(r: &[u8]) -> bool {
    r.starts_with(b"#!AMR")
}
pub(crate) fn voc(r: &[u8]) -> bool {
    r.starts_with(b"Creative Voice File")
}
pub(crate) fn m3u(r: &[u8]) -> bool {
    r.starts_with(b"#EXTM3U\n") || r.starts_with(b"#EXTM3U\r\n")
}
pub(crate) fn aac(r: &[u8]) -> bool {
    r.len() > 1 && r[0] == 0xFF && (r[1] == 0xF1 || r[1] == 0xF9)
}
/// MP3: a plausible ID3v2 tag, a frame header at the start, or two consecutive compatible
/// Layer III frames within the first 2 KiB.
pub(crate) fn mp3(r: &[u8]) -> bool {
    if r.len() < 3 {
        return false;
    }
    if id3v2(r) {
        return true;
    }
    if matches!(
        be16(r) & 0xFFFE,
        0xFFFA | 0xFFF2 | 0xFFE2 | 0xFFFC | 0xFFF4 | 0xFFF5
    ) {
        return true;
    }
    if r.starts_with(b"MO3")
        || r.starts_with(&[0x00, 0x00, 0x01, 0x40, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00])
    {
        return false;
    }
    super::mp3::has_frame(r)
}

fn id3v2(r: &[u8]) -> bool {
    if r.len() < 10 || !r.starts_with(b"ID3") {
        return false;
    }
    if !(2..=4).contains(&r[3]) || r[4] != 0 || r[5] & 0b1111 != 0 {
        return false;
    }
    if r[6..10].iter().any(|b| b & 0x80 != 0) {
        return false;
    }
    let size =
        u32::from(r[6]) << 21 | u32::from(r[7]) << 14 | u32::from(r[8]) << 7 | u32::from(r[9]);
    size > 0 && size < 10 * 1024 * 1024
}
pub(crate) fn wav(r: &[u8]) -> bool {
    r.len() > 12 && &r[..4] == b"RIFF" && &r[8..12] == b"WAVE"
}
pub(crate) fn aiff(r: &[u8]) -> bool {
    r.len() > 12 && &r[..4] == b"FORM" && &r[8..12] == b"AIFF"
}
pub(crate) fn qcp(r: &[u8]) -> bool {
    r.len() > 12 && &r[..4] == b"RIFF" && &r[8..12] == b"QLCM"
}
pub(crate) fn flv(r: &[u8]) -> bool {
    r.starts_with(b"FLV\x01")
}
pub(crate) fn asf(r: &[u8]) -> bool {
    r.starts_with(&[
        0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE,
        0x6C,
    ])
}
pub(crate) fn rmvb(r: &[u8]) -> bool {
    r.starts_with(b".RMF")
}
pub(crate) fn webm(r: &[u8]) -> bool {
    matroska(r, b"webm")
}
pub(crate) fn mkv(r: &[u8]) -> bool {
    matroska(r, b"matroska")
}
/// An EBML header whose DocType (after the first `42 82` element id) is `kind`.
fn matroska(r: &[u8], kind: &[u8]) -> bool {
    if !r.starts_with(b"\x1A\x45\xDF\xA3") {
        return false;
    }
    let max = r.len().min(4096);
    match scan::find(&r[..max], b"\x42\x82") {
        Some(ind) if ind > 0 && r.len() > ind + 2 => {
            let ind = ind + 2;
            let v = r[ind];
            let mut n = 1;
            let mut mask = 128u8;
            while n < 8 && v & mask == 0 {
                mask >>= 1;
                n += 1;
            }
            r.len() > ind + n && r[ind + n..].starts_with(kind)
        }
        _ => false,
    }
}
pub(crate) fn mpeg(r: &[u8]) -> bool {
    r.len() > 3 && r.starts_with(&[0, 0, 1]) && (0xB0..=0xBF).contains(&r[3])
}
pub(crate) fn avi(r: &[u8]) -> bool {
    r.len() > 16 && &r[..4] == b"RIFF" && &r[8..16] == b"AVI LIST"
}
pub(crate) fn quick_time(r: &[u8]) -> bool {
    if r.len() < 12 {
        return false;
    }
    if &r[4..12] == b"ftypqt  " || &r[4..12] == b"ftypmoov" {
        return r[0] == 0;
    }
    if [
        b"moov\x00",
        b"mdat\x00",
        b"free\x00",
        b"skip\x00",
        b"pnot\x00",
    ]
    .iter()
    .any(|a| &r[4..9] == *a)
    {
        return true;
    }
    r.starts_with(b"\x00\x00\x00\x08wide")
}
pub(crate) fn mp4(r: &[u8]) -> bool {
    r.len() >= 12 && r[0] == 0 && &r[4..8] == b"ftyp"
}
fn ftyp(r: &[u8], brands: &[&[u8; 4]]) -> bool {
    r.len() >= 12 && brands.iter().any(|b| &r[8..12] == *b)
}
pub(crate) fn avif(r: &[u8]) -> bool {
    ftyp(r, &[b"avif", b"avis"])
}
pub(crate) fn three_gp(r: &[u8]) -> bool {
    ftyp(
        r,
        &[
            b"3gp1", b"3gp2", b"3gp3", b"3gp4", b"3gp5", b"3gp6", b"3gp7", b"3gs7", b"3ge6",
            b"3ge7", b"3gg6",
        ],
    )
}
pub(crate) fn three_g2(r: &[u8]) -> bool {
    ftyp(
        r,
        &[
            b"3g24", b"3g25", b"3g26", b"3g2a", b"3g2b", b"3g2c", b"KDDI",
        ],
    )
}
pub(crate) fn audio_mp4(r: &[u8]) -> bool {
    ftyp(r, &[b"F4A ", b"F4B ", b"M4B ", b"M4P ", b"MSNV", b"NDAS"])
}
pub(crate) fn mqv(r: &[u8]) -> bool {
    ftyp(r, &[b"mqt "])
}
pub(crate) fn m4a(r: &[u8]) -> bool {
    ftyp(r, &[b"M4A "])
}
pub(crate) fn m4v(r: &[u8]) -> bool {
    ftyp(r, &[b"M4V ", b"M4VH", b"M4VP"])
}
pub(crate) fn heic(r: &[u8]) -> bool {
    ftyp(r, &[b"heic", b"heix"])
}
pub(crate) fn heic_sequence(r: &[u8]) -> bool {
    ftyp(r, &[b"hevc", b"hevx"])
}
pub(crate) fn heif(r: &[u8]) -> bool {
    ftyp(r, &[b"mif1", b"heim", b"heis", b"avic"])
}
pub(crate) fn heif_sequence(r: &[u8]) -> bool {
    ftyp(r, &[b"msf1", b"hevm", b"hevs", b"avcs"])
}
pub(crate) fn mj2(r: &[u8]) -> bool {
    ftyp(r, &[b"mj2s", b"mjp2", b"MFSM", b"MGSV"])
}
pub(crate) fn dvb(r: &[u8]) -> bool {
    ftyp(
        r,
        &[
            b"dby1", b"dsms", b"dts1", b"dts2", b"dts3", b"dxo ", b"dmb1", b"dmpf", b"drc1",
            b"dv1a", b"dv1b", b"dv2a", b"dv2b", b"dv3a", b"dv3b", b"dvr1", b"dvt1", b"emsg",
        ],
    )
}

// --- executables, fonts, databases, misc --------------------------------------------------------

pub(crate) fn exe(r: &[u8]) -> bool {
    r.starts_with(b"MZ")
}
pub(crate) fn elf(r: &[u8]) -> bool {
    r.starts_with(b"\x7FELF")
}
fn elf_type(r: &[u8], t: u8) -> bool {
    r.len() > 17 && ((r[16] == t && r[17] == 0) || (r[16] == 0 && r[17] == t))
}
pub(crate) fn elf_obj(r: &[u8]) -> bool {
    elf_type(r, 1)
}
pub(crate) fn elf_exe(r: &[u8]) -> bool {
    elf_type(r, 2)
}
pub(crate) fn elf_lib(r: &[u8]) -> bool {
    elf_type(r, 3)
}
pub(crate) fn elf_dump(r: &[u8]) -> bool {
    elf_type(r, 4)
}
fn fat_magic(r: &[u8]) -> bool {
    r.len() >= 8 && be32(r) == 0xcafe_babe
}
pub(crate) fn class(r: &[u8]) -> bool {
    fat_magic(r) && r[7] > 30
}
pub(crate) fn macho(r: &[u8]) -> bool {
    if fat_magic(r) && r[7] < 0x14 {
        return true;
    }
    if r.len() < 4 {
        return false;
    }
    let (be, le) = (be32(r), le32(r));
    [0xfeed_face, 0xfeed_facf]
        .iter()
        .any(|&m| be == m || le == m)
}
pub(crate) fn swf(r: &[u8]) -> bool {
    r.starts_with(b"CWS") || r.starts_with(b"FWS") || r.starts_with(b"ZWS")
}
pub(crate) fn wasm(r: &[u8]) -> bool {
    r.starts_with(b"\x00asm")
}
pub(crate) fn nes(r: &[u8]) -> bool {
    r.starts_with(b"NES\x1A")
}
pub(crate) fn lnk(r: &[u8]) -> bool {
    r.starts_with(&[0x4C, 0x00, 0x00, 0x00, 0x01, 0x14, 0x02, 0x00])
}
pub(crate) fn torrent(r: &[u8]) -> bool {
    r.starts_with(b"d8:announce")
}
pub(crate) fn parquet(r: &[u8]) -> bool {
    r.starts_with(b"PAR1")
}
pub(crate) fn cbor(r: &[u8]) -> bool {
    r.starts_with(&[0xD9, 0xD9, 0xF7])
}
pub(crate) fn dbf(r: &[u8]) -> bool {
    if r.len() < 68 {
        return false;
    }
    if r[2] == 0 || r[2] > 12 || r[3] == 0 || r[3] > 31 {
        return false;
    }
    if r[12] != 0 || r[13] != 0 || r[30] != 0 || r[31] != 0 || r[28] > 1 {
        return false;
    }
    [
        0x02, 0x03, 0x04, 0x05, 0x30, 0x31, 0x32, 0x42, 0x62, 0x7B, 0x82, 0x83, 0x87, 0x8A, 0x8B,
        0x8E, 0xB3, 0xCB, 0xE5, 0xF5, 0xF4, 0xFB,
    ]
    .contains(&r[0])
}
pub(crate) fn dcm(r: &[u8]) -> bool {
    r.len() > 131 && &r[128..132] == b"DICM"
}
pub(crate) fn marc(r: &[u8]) -> bool {
    r.len() >= 24
        && &r[20..24] == b"4500"
        && r[..5].iter().all(u8::is_ascii_digit)
        && r[..r.len().min(2048)].contains(&0x1E)
}
pub(crate) fn glb(r: &[u8]) -> bool {
    r.starts_with(b"glTF\x02\x00\x00\x00") || r.starts_with(b"glTF\x01\x00\x00\x00")
}
pub(crate) fn tzif(r: &[u8]) -> bool {
    r.len() >= 44
        && r.starts_with(b"TZif")
        && be32(&r[36..40]) != 0
        && matches!(r[4], 0x00 | 0x32 | 0x33)
}
pub(crate) fn woff(r: &[u8]) -> bool {
    r.starts_with(b"wOFF")
}
pub(crate) fn woff2(r: &[u8]) -> bool {
    r.starts_with(b"wOF2")
}
pub(crate) fn otf(r: &[u8]) -> bool {
    r.len() > 48 && r.starts_with(b"OTTO\x00") && scan::contains(&r[12..48], b"CFF ")
}
pub(crate) fn ttf(r: &[u8]) -> bool {
    const TABLES: [&[u8; 4]; 70] = [
        b"acnt", b"ankr", b"avar", b"bdat", b"bhed", b"bloc", b"bsln", b"cmap", b"cvar", b"cvt ",
        b"EBSC", b"fdsc", b"feat", b"fmtx", b"fond", b"fpgm", b"fvar", b"gasp", b"gcid", b"glyf",
        b"gvar", b"hdmx", b"head", b"hhea", b"hmtx", b"hvgl", b"hvpm", b"just", b"kern", b"kerx",
        b"lcar", b"loca", b"ltag", b"maxp", b"meta", b"mort", b"morx", b"name", b"opbd", b"OS/2",
        b"GSUB", b"GPOS", b"BASE", b"JSTF", b"GDEF", b"MATH", b"CBDT", b"CBLC", b"CFF ", b"CFF2",
        b"COLR", b"CPAL", b"DSIG", b"EBDT", b"EBLC", b"HVAR", b"LTSH", b"MERG", b"MVAR", b"PCLT",
        b"post", b"prep", b"sbix", b"STAT", b"SVG ", b"VDMX", b"vhea", b"vmtx", b"VORG", b"VVAR",
    ];
    r.starts_with(&[0, 1, 0, 0]) && r.len() >= 16 && TABLES.iter().any(|t| &r[12..16] == *t)
}
pub(crate) fn eot(r: &[u8]) -> bool {
    r.len() > 35
        && &r[34..36] == b"LP"
        && [[2u8, 0, 1], [1, 0, 0], [2, 0, 2]]
            .iter()
            .any(|v| &r[8..11] == v)
}
pub(crate) fn ttc(r: &[u8]) -> bool {
    r.len() > 7
        && r.starts_with(b"ttcf")
        && (&r[4..8] == b"\x00\x01\x00\x00" || &r[4..8] == b"\x00\x02\x00\x00")
}
pub(crate) fn sqlite(r: &[u8]) -> bool {
    r.starts_with(b"SQLite format 3\x00")
}
pub(crate) fn ms_access_ace(r: &[u8]) -> bool {
    offset(r, b"Standard ACE DB", 4)
}
pub(crate) fn ms_access_mdb(r: &[u8]) -> bool {
    offset(r, b"Standard Jet DB", 4)
}
pub(crate) fn shx(r: &[u8]) -> bool {
    r.starts_with(&[0x00, 0x00, 0x27, 0x0A])
}
pub(crate) fn shp(r: &[u8]) -> bool {
    if r.len() < 112 {
        return false;
    }
    if be32(&r[0..4]) != 9994
        || (4..24).step_by(4).any(|i| be32(&r[i..i + 4]) != 0)
        || le32(&r[28..32]) != 1000
    {
        return false;
    }
    [0, 1, 3, 5, 8, 11, 13, 15, 18, 21, 23, 25, 28, 31].contains(&le32(&r[108..112]))
}
pub(crate) fn grib(r: &[u8]) -> bool {
    r.len() > 7 && r.starts_with(b"GRIB") && (r[7] == 1 || r[7] == 2)
}
pub(crate) fn bufr(r: &[u8]) -> bool {
    r.len() > 7 && r.starts_with(b"BUFR") && (r[7] == 3 || r[7] == 4)
}

pub(crate) fn pyc(r: &[u8]) -> bool {
    const MAGIC: [u32; 89] = [
        0x02099900, 0x03099900, 0x892e0d0a, 0x04170d0a, 0x994e0d0a, 0xfcc40d0a, 0xfdc40d0a,
        0x87c60d0a, 0x88c60d0a, 0x2aeb0d0a, 0x2beb0d0a, 0x2ded0d0a, 0x2eed0d0a, 0x3bf20d0a,
        0x3cf20d0a, 0x45f20d0a, 0x59f20d0a, 0x63f20d0a, 0x6df20d0a, 0x6ef20d0a, 0x77f20d0a,
        0x81f20d0a, 0x8bf20d0a, 0x8cf20d0a, 0x95f20d0a, 0x9ff20d0a, 0xa9f20d0a, 0xb3f20d0a,
        0xb4f20d0a, 0xc7f20d0a, 0xd1f20d0a, 0xd2f20d0a, 0xdbf20d0a, 0xe5f20d0a, 0xeff20d0a,
        0xf9f20d0a, 0x03f30d0a, 0x04f30d0a, 0x0af30d0a, 0xb80b0d0a, 0xc20b0d0a, 0xcc0b0d0a,
        0xd60b0d0a, 0xe00b0d0a, 0xea0b0d0a, 0xf40b0d0a, 0xf50b0d0a, 0xff0b0d0a, 0x090c0d0a,
        0x130c0d0a, 0x1d0c0d0a, 0x1f0c0d0a, 0x270c0d0a, 0x3b0c0d0a, 0x450c0d0a, 0x4f0c0d0a,
        0x580c0d0a, 0x620c0d0a, 0x6c0c0d0a, 0x760c0d0a, 0x800c0d0a, 0x8a0c0d0a, 0x940c0d0a,
        0x9e0c0d0a, 0xb20c0d0a, 0xbc0c0d0a, 0xc60c0d0a, 0xd00c0d0a, 0xda0c0d0a, 0xe40c0d0a,
        0xee0c0d0a, 0xf80c0d0a, 0x020d0d0a, 0x0c0d0d0a, 0x160d0d0a, 0x170d0d0a, 0x200d0d0a,
        0x210d0d0a, 0x2a0d0d0a, 0x2b0d0d0a, 0x2c0d0d0a, 0x2d0d0d0a, 0x2f0d0d0a, 0x300d0d0a,
        0x310d0d0a, 0x320d0d0a, 0x330d0d0a, 0x3e0d0d0a, 0x3f0d0d0a,
    ];
    if r.len() < 8 {
        return false;
    }
    if MAGIC.contains(&be32(r)) {
        return true;
    }
    if r[2] == 0x0d && r[3] == 0x0a {
        if le32(&r[4..8]) > 3 {
            return false;
        }
        if r[1] == 0x0d || r[1] == 0x0e {
            return true;
        }
        return matches!(le16(r), 240 | 256 | 336 | 384 | 416);
    }
    false
}
pub(crate) fn pcap(r: &[u8]) -> bool {
    if r.len() < 4 {
        return false;
    }
    let (be, le) = (be32(r), le32(r));
    [0xa1b2c3d4, 0xa1b23c4d].iter().any(|&m| be == m || le == m)
}
