//! Container formats whose members tell what they are, ported from mimetype 1.4.15: zip-based
//! documents (Office Open XML, OpenDocument, EPUB, JAR, APK) and OLE compound files (legacy
//! Office, Outlook, Windows Installer).

use super::scan::{self, le16, le32, offset};

// --- zip containers ---------------------------------------------------------------------------

pub(crate) fn zip(r: &[u8]) -> bool {
    r.len() > 3
        && r[0] == 0x50
        && r[1] == 0x4B
        && matches!(r[2], 3 | 5 | 7)
        && matches!(r[3], 4 | 6 | 8)
}

/// Names of the local file entries of a zip, found by scanning for their signature.
struct ZipEntries<'a> {
    b: &'a [u8],
}

impl<'a> Iterator for ZipEntries<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let n = scan::find(self.b, b"PK\x03\x04")?;
        self.b = &self.b[n..];
        if !scan::advance(&mut self.b, 0x1A) || self.b.len() < 2 {
            return None;
        }
        let l = usize::from(le16(self.b));
        self.b = &self.b[2..];
        if !scan::advance(&mut self.b, 2) || self.b.len() < l {
            return None;
        }
        Some(&self.b[..l])
    }
}

/// One entry to look for: an exact name, or a directory prefix.
type Entry = (&'static [u8], bool);

fn entry_matches(entries: &[Entry], name: &[u8]) -> bool {
    entries
        .iter()
        .any(|&(e, dir)| if dir { name.starts_with(e) } else { name == e })
}

fn zip_has(r: &[u8], entries: &[Entry], stop_after: usize) -> bool {
    ZipEntries { b: r }
        .take(stop_after)
        .take_while(|f| !f.is_empty())
        .any(|f| entry_matches(entries, f))
}

/// Office Open XML: the wanted directory among the first entries, the first entry being one
/// an OOXML writer puts first.
fn msoxml(r: &[u8], entries: &[Entry]) -> bool {
    for (i, f) in (ZipEntries { b: r }).take(100).enumerate() {
        if f.is_empty() {
            break;
        }
        if entry_matches(entries, f) {
            return true;
        }
        if i == 0
            && f != b"[Content_Types].xml"
            && !f.starts_with(b"_rels/")
            && !f.starts_with(b"docProps/")
            && !f.starts_with(b"customXml/")
            && !f.starts_with(b"[trash]/")
        {
            return false;
        }
    }
    false
}

pub(crate) fn xlsx(r: &[u8]) -> bool {
    msoxml(r, &[(b"xl/", true)])
}
pub(crate) fn docx(r: &[u8]) -> bool {
    msoxml(r, &[(b"word/", true)])
}
pub(crate) fn pptx(r: &[u8]) -> bool {
    msoxml(r, &[(b"ppt/", true)])
}
pub(crate) fn visio(r: &[u8]) -> bool {
    msoxml(r, &[(b"visio/", true)])
}
pub(crate) fn apk(r: &[u8]) -> bool {
    let rest = match zipflinger_entry(r) {
        Some(_) => return true,
        None => r,
    };
    zip_has(
        rest,
        &[
            (b"AndroidManifest.xml", false),
            (
                b"META-INF/com/android/build/gradle/app-metadata.properties",
                false,
            ),
            (b"classes.dex", false),
            (b"resources.arsc", false),
            (b"res/drawable", false),
        ],
        100,
    )
}
/// A Zipflinger virtual entry at the start (stored, no CRC, no sizes, no name): Android
/// tooling writes these, so the zip is an APK. Returns what follows the entry.
fn zipflinger_entry(r: &[u8]) -> Option<&[u8]> {
    scan::find(r, b"PK\x03\x04")?;
    let mut b = r;
    let mut take = |n: usize| -> Option<&[u8]> {
        if b.len() < n {
            return None;
        }
        let (head, rest) = b.split_at(n);
        b = rest;
        Some(head)
    };
    take(8)?;
    if le16(take(2)?) != 0 {
        return None;
    }
    take(4)?;
    for _ in 0..3 {
        if le32(take(4)?) != 0 {
            return None;
        }
    }
    if le16(take(2)?) != 0 {
        return None;
    }
    let extra = usize::from(le16(take(2)?));
    take(extra)?;
    Some(b)
}

pub(crate) fn jar(r: &[u8]) -> bool {
    executable_jar(r)
        || zip_has(
            r,
            &[(b"META-INF/", false), (b"META-INF/MANIFEST.MF", false)],
            1,
        )
}
/// A 0xCAFE extra field in the first entry (read as loosely as the original: failed skips are
/// ignored).
fn executable_jar(mut b: &[u8]) -> bool {
    fn u16_le(b: &mut &[u8]) -> Option<u16> {
        if b.len() < 2 {
            return None;
        }
        let v = le16(b);
        *b = &b[2..];
        Some(v)
    }
    scan::advance(&mut b, 0x1A);
    let Some(off) = u16_le(&mut b) else {
        return false;
    };
    scan::advance(&mut b, usize::from(off) + 2);
    u16_le(&mut b) == Some(0xCAFE)
}
pub(crate) fn kmz(r: &[u8]) -> bool {
    zip_has(r, &[(b"doc.kml", false)], 100)
}
macro_rules! opendocument {
    ($($name:ident => $sig:literal),* $(,)?) => {$(
        pub(crate) fn $name(r: &[u8]) -> bool {
            offset(r, concat!("mimetype", $sig).as_bytes(), 30)
        }
    )*};
}
opendocument! {
    odt => "application/vnd.oasis.opendocument.text",
    ott => "application/vnd.oasis.opendocument.text-template",
    ods => "application/vnd.oasis.opendocument.spreadsheet",
    ots => "application/vnd.oasis.opendocument.spreadsheet-template",
    odp => "application/vnd.oasis.opendocument.presentation",
    otp => "application/vnd.oasis.opendocument.presentation-template",
    odg => "application/vnd.oasis.opendocument.graphics",
    otg => "application/vnd.oasis.opendocument.graphics-template",
    odf => "application/vnd.oasis.opendocument.formula",
    odc => "application/vnd.oasis.opendocument.chart",
    epub => "application/epub+zip",
    sxc => "application/vnd.sun.xml.calc",
}

// --- OLE compound files -----------------------------------------------------------------------

pub(crate) fn ole(r: &[u8]) -> bool {
    r.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
}

/// The root storage object's CLSID starts with `clsid`.
fn ole_clsid(r: &[u8], clsid: &[u8]) -> bool {
    if r.len() < 512 {
        return false;
    }
    let sector: u64 = if r[26] == 0x04 && r[27] == 0x00 {
        4096
    } else {
        512
    };
    let first = u64::from(le32(&r[48..52]));
    let off = sector * (1 + first) + 80;
    match usize::try_from(off) {
        Ok(o) if o.checked_add(16).is_some_and(|e| e < r.len()) => r[o..].starts_with(clsid),
        _ => false,
    }
}
pub(crate) fn doc(r: &[u8]) -> bool {
    const TAIL: [u8; 14] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46,
    ];
    [[0x06u8, 0x09], [0x00, 0x09], [0x07, 0x09]]
        .iter()
        .any(|head| {
            let mut id = [0u8; 16];
            id[..2].copy_from_slice(head);
            id[2..].copy_from_slice(&TAIL);
            ole_clsid(r, &id)
        })
}
pub(crate) fn ppt(r: &[u8]) -> bool {
    if ole_clsid(
        r,
        &[
            0x10, 0x8d, 0x81, 0x64, 0x9b, 0x4f, 0xcf, 0x11, 0x86, 0xea, 0x00, 0xaa, 0x00, 0xb9,
            0x29, 0xe8,
        ],
    ) || ole_clsid(
        r,
        &[
            0x70, 0xae, 0x7b, 0xea, 0x3b, 0xfb, 0xcd, 0x11, 0xa9, 0x03, 0x00, 0xaa, 0x00, 0x51,
            0x0e, 0xa3,
        ],
    ) {
        return true;
    }
    if r.len() < 520 {
        return false;
    }
    let sub = &r[512..];
    if [
        &[0xA0u8, 0x46, 0x1D, 0xF0][..],
        &[0x00, 0x6E, 0x1E, 0xF0],
        &[0x0F, 0x00, 0xE8, 0x03],
    ]
    .iter()
    .any(|h| sub.starts_with(h))
    {
        return true;
    }
    r.len() > 1152
        && scan::contains(
            &r[1152..r.len().min(4096)],
            b"P\x00o\x00w\x00e\x00r\x00P\x00o\x00i\x00n\x00t\x00 D\x00o\x00c\x00u\x00m\x00e\x00n\x00t",
        )
}
pub(crate) fn xls(r: &[u8]) -> bool {
    if ole_clsid(r, &[0x10, 0x08, 0x02, 0, 0, 0, 0, 0])
        || ole_clsid(r, &[0x20, 0x08, 0x02, 0, 0, 0, 0, 0])
    {
        return true;
    }
    if r.len() < 520 {
        return false;
    }
    let sub = &r[512..];
    let heads: [&[u8]; 7] = [
        &[0x09, 0x08, 0x10, 0x00, 0x00, 0x06, 0x05, 0x00],
        &[0xFD, 0xFF, 0xFF, 0xFF, 0x10],
        &[0xFD, 0xFF, 0xFF, 0xFF, 0x1F],
        &[0xFD, 0xFF, 0xFF, 0xFF, 0x22],
        &[0xFD, 0xFF, 0xFF, 0xFF, 0x23],
        &[0xFD, 0xFF, 0xFF, 0xFF, 0x28],
        &[0xFD, 0xFF, 0xFF, 0xFF, 0x29],
    ];
    if heads.iter().any(|h| sub.starts_with(h)) {
        return true;
    }
    r.len() > 1152
        && scan::contains(
            &r[1152..r.len().min(4096)],
            b"W\x00k\x00s\x00S\x00S\x00W\x00o\x00r\x00k\x00B\x00o\x00o\x00k",
        )
}
pub(crate) fn publisher(r: &[u8]) -> bool {
    ole_clsid(
        r,
        &[
            0x01, 0x12, 0x02, 0, 0, 0, 0, 0, 0x00, 0xC0, 0, 0, 0, 0, 0, 0x46,
        ],
    )
}
pub(crate) fn msg(r: &[u8]) -> bool {
    ole_clsid(
        r,
        &[
            0x0B, 0x0D, 0x02, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46,
        ],
    )
}
pub(crate) fn msi(r: &[u8]) -> bool {
    ole_clsid(
        r,
        &[
            0x84, 0x10, 0x0C, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46,
        ],
    )
}
pub(crate) fn one_note(r: &[u8]) -> bool {
    r.starts_with(&[
        0xe4, 0x52, 0x5c, 0x7b, 0x8c, 0xd8, 0xa7, 0x4d, 0xae, 0xb1, 0x53, 0x78, 0xd0, 0x29, 0x96,
        0xd3,
    ])
}
