//! Export directory.

use super::map::PeMap;
use crate::demangle::demangle;
use crate::formats::bytes::text;
use crate::model::{Binary, Export, Location, Severity};

/// Read the export directory.
pub fn read_exports(bin: &mut Binary, map: &PeMap, (rva, size): (u64, u64)) {
    if rva == 0 {
        return;
    }
    let f = |o: u64| map.u32(rva + o).map(u64::from);
    let (Some(base), Some(nfuncs), Some(nnames), Some(funcs), Some(names), Some(ords)) =
        (f(16), f(20), f(24), f(28), f(32), f(36))
    else {
        bin.diag(Severity::Error, Location::rva(rva), "export directory is not in the file");
        return;
    };
    // Bound the tables by what the file can hold.
    let cap = map.data.len() as u64 / 4;
    let nfuncs = if nfuncs > cap {
        bin.diag(
            Severity::Error,
            Location::rva(rva + 20),
            format!("export directory claims {nfuncs} functions; more than the file can hold"),
        );
        cap.min(nfuncs)
    } else {
        nfuncs
    };
    let nnames = nnames.min(cap);
    let mut name_of: Vec<Option<String>> = vec![None; nfuncs as usize];
    let mut bad_ord =
        crate::model::Repeated::new(Severity::Warning, "export names have ordinal indices past the address table");
    for i in 0..nnames {
        let (Some(nrva), Some(ord)) = (map.u32(names + i * 4), map.u16(ords + i * 2)) else {
            bin.diag(Severity::Warning, Location::rva(names + i * 4), format!("export name {i} is not in the file"));
            break;
        };
        let name = map
            .name(u64::from(nrva), super::imports::MAX_NAME)
            .map(|(n, whole)| super::imports::cut_text(n, whole))
            .unwrap_or_else(|| format!("<bad name rva 0x{nrva:x}>"));
        match name_of.get_mut(ord as usize) {
            Some(slot) => {
                if slot.is_none() {
                    *slot = Some(name);
                }
            }
            None => bad_ord.add(Location::rva(ords + i * 2), || {
                format!("export name {name} has ordinal index {ord} past the address table ({nfuncs})")
            }),
        }
    }
    bad_ord.flush(bin);
    for i in 0..nfuncs {
        let Some(frva) = map.u32(funcs + i * 4) else {
            bin.diag(Severity::Warning, Location::rva(funcs + i * 4), format!("export address {i} is not in the file"));
            break;
        };
        let frva = u64::from(frva);
        let name = name_of.get_mut(i as usize).and_then(Option::take);
        if frva == 0 && name.is_none() {
            continue;
        }
        let forwarder = (frva >= rva && frva < rva + size).then(|| map.cstr(frva, 4096).map(text).unwrap_or_default());
        bin.exports.push(Export {
            demangled: name.as_deref().and_then(demangle),
            name,
            ordinal: (base + i) as u32,
            rva: frva,
            forwarder,
            span: map.offset(funcs + i * 4).map(|o| crate::model::Span::new(o, 4)),
        });
    }
}
