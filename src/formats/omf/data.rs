//! Data records: LEDATA (enumerated bytes) and LIDATA (nested iterated blocks, expanded with a
//! bound on the expanded size), and assembling the bytes into segment and COMDAT images.

use super::names::IndexKind;
use super::record::Body;
use super::{DataCtx, LeafMap, Module, Owner};
use crate::model::{OmfDataChunk, Severity, Span};

/// Bytes all segment and COMDAT images of one module may take together.
pub const MODULE_IMAGE_BUDGET: u64 = 64 << 20;
/// Most bytes one LIDATA (or iterated COMDAT) record may expand to.
pub const MAX_ITERATED_EXPANSION: u64 = 16 << 20;
/// Deepest nesting of iterated blocks that is followed.
const MAX_NESTING: u32 = 32;

/// One iterated data block.
#[derive(Debug)]
struct Block {
    repeat: u64,
    /// Expanded size of one repetition's content.
    unit: u64,
    content: Content,
}

#[derive(Debug)]
enum Content {
    /// Leaf bytes: file offset, length, leaf id.
    Leaf(u64, u64, usize),
    Nested(Vec<Block>),
}

impl Block {
    fn size(&self) -> u64 {
        self.repeat.saturating_mul(self.unit)
    }
}

/// Parsed iterated data.
pub struct Iterated {
    blocks: Vec<Block>,
    /// Where each leaf's first copy went (filled by [`expand`]).
    pub leaves: Vec<LeafMap>,
    /// Total expanded size (saturating).
    pub size: u64,
    /// The iterated-block bytes in the file.
    pub span: Span,
}

/// Parse iterated blocks up to the end of the body; `rw` is the repeat-count width (2 or 4).
pub fn parse_iterated(m: &mut Module<'_>, b: &mut Body<'_>, rw: u32) -> Option<Iterated> {
    let start = b.pos;
    let mut leaves = Vec::new();
    let mut blocks = Vec::new();
    let mut n = 0u32;
    while !b.done() {
        n += 1;
        let block = parse_block(m, b, rw, start, 0, &n.to_string(), &mut leaves)?;
        blocks.push(block);
    }
    let size = blocks.iter().fold(0u64, |a, bl| a.saturating_add(bl.size()));
    Some(Iterated { blocks, leaves, size, span: Span::new(start, b.pos - start) })
}

fn parse_block(
    m: &mut Module<'_>,
    b: &mut Body<'_>,
    rw: u32,
    base: u64,
    depth: u32,
    path: &str,
    leaves: &mut Vec<LeafMap>,
) -> Option<Block> {
    let repeat =
        b.uint_with(&format!("[{path}] Repeat count"), rw, "How many times the block's content is repeated.", |v| {
            v.to_string()
        })?;
    let count = b.uint_with(
        &format!("[{path}] Block count"),
        2,
        "Number of nested blocks; 0 means the content is a byte count and that many data bytes.",
        |v| {
            if v == 0 {
                "0 (leaf: data bytes follow)".into()
            } else {
                format!("{v} nested block(s)")
            }
        },
    )?;
    if count == 0 {
        let len =
            b.uint_with(&format!("[{path}] Content length"), 1, "Number of data bytes in this leaf block.", |v| {
                v.to_string()
            })?;
        let at = b.pos;
        b.raw(&format!("[{path}] Content"), len, "The leaf's data bytes, repeated Repeat-count times.")?;
        let id = leaves.len();
        leaves.push(LeafMap { rel: at - base, len, out: None });
        return Some(Block { repeat, unit: len, content: Content::Leaf(at, len, id) });
    }
    if depth + 1 >= MAX_NESTING {
        let msg = format!(
            "{}: iterated blocks nested more than {MAX_NESTING} deep; the rest of the record is not read",
            m.here()
        );
        m.diag(Severity::Error, b.pos, msg);
        b.rest("Unread blocks", "Blocks nested too deeply to be followed.");
        return Some(Block { repeat, unit: 0, content: Content::Nested(Vec::new()) });
    }
    let mut children = Vec::new();
    for i in 1..=count {
        if b.done() {
            let msg = format!(
                "{}: block [{path}] announces {count} nested blocks but the record ends after {}",
                m.here(),
                i - 1
            );
            m.diag(Severity::Error, b.pos, msg);
            break;
        }
        children.push(parse_block(m, b, rw, base, depth + 1, &format!("{path}.{i}"), leaves)?);
    }
    let unit = children.iter().fold(0u64, |a, c| a.saturating_add(c.size()));
    Some(Block { repeat, unit, content: Content::Nested(children) })
}

/// Expand parsed blocks into bytes (the caller checked `it.size` against the limits). `base_out`
/// is the owner offset of the first expanded byte, for the leaf map.
pub fn expand(data: &[u8], it: &mut Iterated, base_out: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(usize::try_from(it.size).unwrap_or(0));
    let blocks = std::mem::take(&mut it.blocks);
    for bl in &blocks {
        expand_block(data, bl, &mut out, &mut it.leaves, base_out);
    }
    it.blocks = blocks;
    out
}

fn expand_block(data: &[u8], bl: &Block, out: &mut Vec<u8>, leaves: &mut [LeafMap], base_out: u64) {
    // Every iteration below emits at least one byte, so the work is bounded by the output size.
    if bl.size() == 0 {
        return;
    }
    match &bl.content {
        Content::Leaf(at, len, id) => {
            let bytes = crate::formats::bytes::slice_at(data, *at, *len).unwrap_or(&[]);
            if let Some(l) = leaves.get_mut(*id) {
                if l.out.is_none() {
                    l.out = Some(base_out + out.len() as u64);
                }
            }
            for _ in 0..bl.repeat {
                out.extend_from_slice(bytes);
            }
        }
        Content::Nested(children) => {
            // Only children that produce bytes: empty ones would make the loop cost more than
            // its output.
            let live: Vec<&Block> = children.iter().filter(|c| c.size() > 0).collect();
            for _ in 0..bl.repeat {
                for c in &live {
                    expand_block(data, c, out, leaves, base_out);
                }
            }
        }
    }
}

impl Module<'_> {
    /// Name of a data owner, for messages.
    pub fn owner_name(&self, owner: Owner) -> String {
        match owner {
            Owner::Segment(i) => self.describe(IndexKind::Segment, i as u16),
            Owner::Comdat(c) => {
                self.omf.comdats.get(c).map_or_else(|| "COMDAT ?".into(), |c| format!("COMDAT `{}`", c.name))
            }
            Owner::None => "(no segment)".into(),
        }
    }

    /// Record that `len` bytes (given in `bytes` when available) go to `owner` at `off`, and copy
    /// them into its image within the module budget.
    pub fn put(&mut self, owner: Owner, off: u64, len: u64, bytes: Option<&[u8]>, iterated: bool, span: Span) {
        let chunk = OmfDataChunk { record: self.rec, offset: off, len, iterated, span };
        let end = off.saturating_add(len);
        let (image, limit) = match owner {
            Owner::Segment(i) => {
                let Some(seg) = self.omf.segments.get_mut((i as usize).saturating_sub(1)) else {
                    return;
                };
                seg.data.push(chunk);
                let limit = seg.length;
                (&mut seg.image, Some(limit))
            }
            Owner::Comdat(c) => {
                let Some(cd) = self.omf.comdats.get_mut(c) else {
                    return;
                };
                cd.data.push(chunk);
                cd.length = cd.length.max(end);
                (&mut cd.image, None)
            }
            Owner::None => return,
        };
        let grow = end.saturating_sub(image.len() as u64);
        let ok = bytes.is_some() && grow <= self.budget;
        if let (true, Some(bytes)) = (ok, bytes) {
            self.budget -= grow;
            let (s, e) = (off as usize, end as usize);
            if image.len() < e {
                image.resize(e, 0);
            }
            if let Some(dst) = image.get_mut(s..e) {
                let n = dst.len().min(bytes.len());
                if let (Some(d), Some(src)) = (dst.get_mut(..n), bytes.get(..n)) {
                    d.copy_from_slice(src);
                }
            }
        }
        if let Some(limit) = limit {
            if end > limit {
                let msg = format!(
                    "{}: {len} byte(s) at offset 0x{off:x} run past the end of {} (length 0x{limit:x})",
                    self.here(),
                    self.owner_name(owner)
                );
                self.diag(Severity::Warning, span.offset, msg);
            }
        }
        if bytes.is_some() && !ok {
            let msg = format!(
                "{}: bytes at offset 0x{off:x} of {} are beyond the {} MiB this reader assembles per module; they are listed but not assembled",
                self.here(),
                self.owner_name(owner),
                MODULE_IMAGE_BUDGET >> 20
            );
            self.diag(Severity::Warning, span.offset, msg);
        }
    }

    /// Resolve a data record's segment index to an owner.
    fn data_owner(&self, seg: u16) -> Owner {
        if let Some(c) = self.virtual_segment(seg) {
            return Owner::Comdat(c);
        }
        if seg != 0 && usize::from(seg) <= self.omf.segments.len() {
            Owner::Segment(u32::from(seg))
        } else {
            Owner::None
        }
    }

    /// Expand iterated data for `owner` at `off` within the limits and put it there.
    pub fn put_iterated(&mut self, owner: Owner, off: u64, it: &mut Iterated) {
        let bytes = if it.size > MAX_ITERATED_EXPANSION || it.size > self.budget {
            let msg = format!(
                "{}: runaway iterated data: the blocks expand to {} bytes, more than the {} MiB this reader expands; not expanded",
                self.here(),
                it.size,
                MAX_ITERATED_EXPANSION.min(self.budget) >> 20
            );
            self.diag(Severity::Error, it.span.offset, msg);
            None
        } else {
            Some(expand(self.data, it, off))
        };
        self.put(owner, off, it.size, bytes.as_deref(), true, it.span);
    }
}

/// LEDATA: enumerated data bytes at an offset in a segment.
pub fn ledata(m: &mut Module<'_>, b: &mut Body<'_>, t: u8) -> Option<String> {
    let (seg, _) =
        m.read_index(b, "Segment index", "SEGDEF index of the segment the bytes go to.", IndexKind::Segment, false)?;
    let w = m.off_width(t);
    let off = b.uint("Enumerated data offset", w, "Offset in the segment of the first data byte.")?;
    let start = b.pos;
    let bytes = b.rest("Data", "The data bytes, in order; a FIXUPP record that follows patches them.");
    let n = bytes.len() as u64;
    let owner = m.data_owner(seg);
    m.put(owner, off, n, Some(bytes), false, Span::new(start, n));
    m.last_data = Some(DataCtx { record: m.rec, rtype: t, owner, base: off, len: n, leaves: None });
    Some(format!("{n} byte(s) → {} at 0x{off:x}", m.owner_name(owner)))
}

/// LIDATA: iterated data blocks at an offset in a segment.
pub fn lidata(m: &mut Module<'_>, b: &mut Body<'_>, t: u8) -> Option<String> {
    let (seg, _) =
        m.read_index(b, "Segment index", "SEGDEF index of the segment the bytes go to.", IndexKind::Segment, false)?;
    let w = m.off_width(t);
    let off = b.uint("Iterated data offset", w, "Offset in the segment of the first expanded byte.")?;
    let rw = if t & 1 == 1 { 4 } else { 2 };
    let owner = m.data_owner(seg);
    let mut it = parse_iterated(m, b, rw)?;
    m.put_iterated(owner, off, &mut it);
    let summary =
        format!("{} block(s), {} byte(s) expanded → {} at 0x{off:x}", it.blocks.len(), it.size, m.owner_name(owner));
    m.last_data =
        Some(DataCtx { record: m.rec, rtype: t, owner, base: off, len: it.span.len, leaves: Some(it.leaves) });
    Some(summary)
}
