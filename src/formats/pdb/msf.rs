//! The bounds checks of an MSF 7.00 container (the file format of a PDB) made before any byte is
//! handed to the reader crate: header, page size, page count against the file's length, the
//! stream directory's pages and every stream's pages. A file that passes cannot make the crate
//! read past its end or follow a page number outside it.

use crate::formats::bytes::u32_at;

/// The MSF 7.00 signature.
pub const MAGIC: &[u8; 32] = b"Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0";
/// The old (MSF 2.00) signature's start, which this reader does not read.
const OLD_MAGIC: &[u8] = b"Microsoft C/C++ program database 2.00";

/// Most streams a directory may list (the largest PDBs hold tens of thousands).
const MAX_STREAMS: u32 = 1 << 20;

/// Why a PDB's container is refused, in words.
pub fn check(data: &[u8]) -> Result<(), String> {
    if data.starts_with(OLD_MAGIC) {
        return Err("an MSF 2.00 (VC 6 era) PDB, which is not read".into());
    }
    if !data.starts_with(MAGIC) {
        return Err("not a PDB (no MSF 7.00 signature)".into());
    }
    let field = |o: u64, what: &str| u32_at(data, o).ok_or_else(|| format!("the MSF header is cut short ({what})"));
    let page = field(32, "page size")?;
    if !matches!(page, 512 | 1024 | 2048 | 4096 | 8192 | 16384 | 32768) {
        return Err(format!("page size {page} is not one MSF uses"));
    }
    let pages = field(40, "page count")?;
    let len = data.len() as u64;
    let page = u64::from(page);
    if u64::from(pages) * page > len {
        return Err(format!(
            "the header counts {pages} pages of {page} bytes ({} bytes) but the file has {len}: truncated",
            u64::from(pages) * page
        ));
    }
    let in_file = |p: u32| p != 0 && p < pages;
    let dir_bytes = u64::from(field(44, "directory size")?);
    let dir_pages = dir_bytes.div_ceil(page);
    if dir_bytes < 4 || dir_pages * 4 > page {
        return Err(format!("a stream directory of {dir_bytes} bytes does not fit the MSF layout"));
    }
    let map = field(52, "directory map")?;
    if !in_file(map) {
        return Err(format!("the stream directory's page map is at page {map}, past the file's {pages} pages"));
    }
    // The directory, gathered from its pages.
    let mut dir = Vec::with_capacity(dir_bytes as usize);
    for i in 0..dir_pages {
        let p = u32_at(data, u64::from(map) * page + 4 * i).unwrap_or(0);
        if !in_file(p) {
            return Err(format!("stream directory page {i} is page {p}, past the file's {pages} pages"));
        }
        let start = u64::from(p) * page;
        let take = page.min(dir_bytes - i * page);
        let s = data.get(start as usize..(start + take) as usize).ok_or("the stream directory is past the end")?;
        dir.extend_from_slice(s);
    }
    let at = |i: u64| u32_at(&dir, 4 * i);
    let streams = at(0).ok_or("the stream directory is empty")?;
    if streams > MAX_STREAMS || u64::from(streams) + 1 > dir_bytes / 4 {
        return Err(format!("the stream directory lists {streams} streams, more than it can hold"));
    }
    let mut next = 1 + u64::from(streams);
    for s in 0..u64::from(streams) {
        let size = at(1 + s).ok_or("the stream directory is cut short")?;
        if size == u32::MAX {
            continue; // a deleted stream
        }
        let n = u64::from(size).div_ceil(page);
        if n > u64::from(pages) {
            return Err(format!("stream {s} is {size} bytes, more than the file holds"));
        }
        for _ in 0..n {
            let p = at(next).ok_or_else(|| format!("stream {s}'s page list runs past the stream directory"))?;
            if !in_file(p) {
                return Err(format!("stream {s} names page {p}, past the file's {pages} pages"));
            }
            next += 1;
        }
    }
    Ok(())
}
