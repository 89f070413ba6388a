//! Process memory in the CLI: `inspect DUMP` (a minidump or an ELF core), and the module memory
//! `verify --dump FILE | --pid N [--module NAME]` and `diff --dump` compare with.

use std::io::Write;
use std::path::Path;

use serde_json::{json, Value};

use crate::model::dump::{DumpModule, ProcessDump};
use crate::model::memory::ModuleMemory;
use crate::session::dump::{find_module, FoundBy, OpenedDump};
use crate::session::process::Process;

/// Where process memory comes from: a dump file or a running process.
pub enum Source {
    /// A minidump or an ELF core.
    Dump(OpenedDump),
    /// A running process.
    Process(Process),
}

impl Source {
    /// Open `--dump FILE` (when it is a minidump or a core) or `--pid N`; Err is the message.
    pub fn open(dump: Option<&Path>, pid: Option<u32>) -> Result<Option<Source>, String> {
        if let Some(pid) = pid {
            return Process::open(pid).map(|p| Some(Source::Process(p))).map_err(|e| format!("linkscope: {e}"));
        }
        match dump {
            Some(d) if crate::session::dump::is_dump(d) => {
                OpenedDump::open(d).map(|o| Some(Source::Dump(o))).map_err(|e| format!("linkscope: {e}"))
            }
            _ => Ok(None),
        }
    }

    /// The modules and ranges.
    pub fn dump(&self) -> &ProcessDump {
        match self {
            Source::Dump(d) => &d.dump,
            Source::Process(p) => &p.dump,
        }
    }

    /// What it is, for messages (`core.gz`, `process 1234`).
    pub fn name(&self) -> String {
        match self {
            Source::Dump(d) => d.path.display().to_string(),
            Source::Process(p) => format!("process {}", p.pid),
        }
    }

    /// The file of the process's executable: `/proc/PID/exe`, or a core's first module (the
    /// lowest mapping of a file at offset 0) when its file is at hand; None for a minidump.
    pub fn executable(&self) -> Option<std::path::PathBuf> {
        match self {
            Source::Process(p) => p.exe(),
            Source::Dump(d) => d.executable(),
        }
    }

    /// The modules' files, found by the names an image imports.
    pub fn files(&self) -> crate::session::dump::DumpFiles<'_> {
        match self {
            Source::Dump(d) => d.files(),
            Source::Process(p) => p.files(),
        }
    }

    /// `size` bytes of memory from `base`.
    pub fn memory(&self, base: u64, size: u64) -> Result<ModuleMemory<'_>, String> {
        match self {
            Source::Dump(d) => d.memory(base, size).map_err(|e| format!("linkscope: {}: {e}", d.path.display())),
            Source::Process(p) => p.memory(base, size).map_err(|e| format!("linkscope: {e}")),
        }
    }

    /// The module the image at `image` is: `--module`, else the file name, else the headers.
    pub fn find(&self, module: Option<&str>, image: &Path) -> Result<(DumpModule, FoundBy), String> {
        let bytes = crate::input::Input::open(image).map_err(|e| format!("linkscope: {}: {e}", image.display()))?;
        let name = image.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        find_module(self.dump(), module, &name, &bytes, &|base, size| self.memory(base, size).ok())
            .map(|(m, by)| (m.clone(), by))
            .map_err(|e| format!("linkscope: {}: {e}", self.name()))
    }

    /// Whether a module's file is at hand (at its path, or beside the dump).
    pub fn file_found(&self, m: &DumpModule) -> bool {
        let beside = match self {
            Source::Dump(d) => d.path.parent().map(Path::to_path_buf),
            Source::Process(_) => None,
        };
        crate::session::dump::module_file(m, beside.as_deref()).is_some()
    }
}

impl crate::session::verify::ProcessMemory for Source {
    fn dump(&self) -> &ProcessDump {
        Source::dump(self)
    }
    fn memory(&self, base: u64, size: u64) -> Result<ModuleMemory<'_>, String> {
        match self {
            Source::Dump(d) => crate::session::verify::ProcessMemory::memory(d, base, size),
            Source::Process(p) => crate::session::verify::ProcessMemory::memory(p, base, size),
        }
    }
    fn files(&self) -> crate::session::dump::DumpFiles<'_> {
        Source::files(self)
    }
    fn executable(&self) -> Option<std::path::PathBuf> {
        Source::executable(self)
    }
}

/// How a module was found, in words for JSON.
pub fn found_by_name(by: FoundBy) -> &'static str {
    match by {
        FoundBy::Name => "name",
        FoundBy::FileName => "file-name",
        FoundBy::Headers => "headers",
    }
}

/// `inspect DUMP`: the modules and memory ranges as JSON or text; the exit code.
pub fn inspect(file: &Path, json: bool, pretty: bool) -> i32 {
    let src = match OpenedDump::open(file) {
        Ok(d) => Source::Dump(d),
        Err(e) => {
            eprintln!("linkscope: {e}");
            return 2;
        }
    };
    let d = src.dump();
    let modules: Vec<Value> = d
        .modules
        .iter()
        .map(|m| {
            let mut v = json!({
                "name": m.name,
                "path": m.path,
                "base": m.base,
                "size": m.size,
                "file_found": src.file_found(m),
                "complete": d.complete(m.base, m.size),
                "held": d.held_bytes(m.base, m.size),
            });
            if let (Some(o), Ok(Value::Object(extra))) = (v.as_object_mut(), serde_json::to_value(m)) {
                for k in ["timestamp", "checksum", "codeview"] {
                    if let Some(x) = extra.get(k) {
                        o.insert(k.into(), x.clone());
                    }
                }
            }
            v
        })
        .collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let r = if json {
        let doc = json!({
            "format": d.format,
            "arch": d.arch.as_ref().map(|a| a.to_string()),
            "modules": modules,
            "memory": d.memory.iter().map(|r| json!({"start": r.start, "size": r.size})).collect::<Vec<_>>(),
            "diagnostics": d.diagnostics,
        });
        let w =
            if pretty { serde_json::to_writer_pretty(&mut out, &doc) } else { serde_json::to_writer(&mut out, &doc) };
        w.map_err(std::io::Error::from).and_then(|()| writeln!(out))
    } else {
        write_text(&mut out, d, &modules)
    };
    // A damaged dump is listed as far as it reads, and fails.
    let code = if d.diagnostics.is_empty() { 0 } else { 2 };
    for n in &d.diagnostics {
        eprintln!("linkscope: {}: {n}", file.display());
    }
    super::finish(r.and_then(|()| out.flush()), code, 2)
}

fn write_text(w: &mut dyn Write, d: &ProcessDump, modules: &[Value]) -> std::io::Result<()> {
    writeln!(w, "format: {}", d.format.name())?;
    if let Some(a) = &d.arch {
        writeln!(w, "arch: {a}")?;
    }
    writeln!(w, "modules: {}", d.modules.len())?;
    writeln!(w, "  {:>18}  {:>10}  {:<8} {:<10} path", "base", "size", "file", "memory")?;
    for (m, v) in d.modules.iter().zip(modules) {
        let complete = v["complete"].as_bool().unwrap_or(false);
        writeln!(
            w,
            "  0x{:016x}  0x{:08x}  {:<8} {:<10} {}",
            m.base,
            m.size,
            if v["file_found"].as_bool().unwrap_or(false) { "found" } else { "missing" },
            if complete {
                "complete".to_string()
            } else {
                format!("{}%", v["held"].as_u64().unwrap_or(0) * 100 / m.size.max(1))
            },
            m.path
        )?;
    }
    let total: u64 = d.memory.iter().map(|r| r.size).sum();
    writeln!(w, "memory: {} ranges, {} bytes", d.memory.len(), total)?;
    for r in &d.memory {
        writeln!(w, "  0x{:016x}  0x{:x}", r.start, r.size)?;
    }
    Ok(())
}
