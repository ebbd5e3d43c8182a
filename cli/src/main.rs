//! The `dorsal` binary: tshark's command line -> validated configuration ->
//! the engine's packet loop -> tshark's exit codes. The only crate that
//! names every other; the protocol crates are listed in its library
//! (`cli/src/lib.rs`).

#![forbid(unsafe_code)]

mod args;
mod command;
mod progress;

use std::cell::RefCell;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::rc::Rc;

use args::{ArgError, Args, OutputFormat};
use dorsal_engine::capture::CaptureError;
use dorsal_engine::dfilter::{Filter, FilterError};
use dorsal_engine::dissect::Dissectors;
use dorsal_engine::fields::{FieldId, Registry};
use dorsal_engine::glossary;
use dorsal_engine::output::{
    CaptureWriter, FieldsPrinter, JsonPrinter, Sink, Tee, TextOptions, TextPrinter,
};
use dorsal_engine::protocol::Protocols;
use dorsal_engine::run::{run_with_taps, Demand, Parallel, RunError, RunOptions};
use dorsal_engine::taps::credentials_csv::CredentialsCsv;
use dorsal_engine::taps::{ObjectSink, ObjectWriter, SharedSink, Stat, TapError, Taps};

const PROG: &str = "dorsal";

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match real_main(&argv) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => ExitCode::from(code),
    }
}

/// `-G [report]`, tshark's glossaries: the fields (also without a report
/// name, as tshark does), the protocols, or the usage of `-G`.
fn glossary(report: Option<&str>) -> Result<(), u8> {
    let (_, reg) = Protocols::new(dorsal::PROTOCOLS);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match report.unwrap_or("fields") {
        "fields" => glossary::write_fields(&reg, &mut out),
        "protocols" => glossary::write_protocols(&reg, &mut out),
        "help" | "?" => {
            let mut usage = format!(
                "dorsal {} (compatible with TShark 4.0.17)\n\nUsage: {PROG} -G [report]\n\nGlossary table reports:\n",
                env!("CARGO_PKG_VERSION")
            );
            for (name, what) in glossary::REPORTS {
                usage.push_str(&format!("  -G {name:<22}{what}\n"));
            }
            out.write_all(usage.as_bytes())
        }
        other => {
            error(&format!(
                "Invalid \"{other}\" option for -G flag, enter -G help for more help."
            ));
            return Err(1);
        }
    };
    // A closed pipe (`dorsal -G fields | head`) ends the listing quietly.
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            error(&e.to_string());
            Err(2)
        }
        _ => Ok(()),
    }
}

/// `--generate man|complete-SHELL`: the man page or a completion script.
fn generate(kind: &str) -> Result<(), u8> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match command::generate(kind, &mut out).and_then(|ok| out.flush().map(|()| ok)) {
        Ok(true) => Ok(()),
        Ok(false) => {
            error(&format!(
                "--generate takes one of {}, not \"{kind}\"",
                command::GENERATE.join(", ")
            ));
            Err(1)
        }
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => {
            error(&e.to_string());
            Err(2)
        }
    }
}

/// Prints `msg` as tshark prints its errors: prefixed with the program name.
fn error(msg: &str) {
    eprintln!("{PROG}: {msg}");
}

fn real_main(argv: &[String]) -> Result<(), u8> {
    if argv.first().is_some_and(|a| a == "-G") {
        return glossary(argv.get(1).map(String::as_str));
    }
    if let Some(first) = argv.first().and_then(|a| a.strip_prefix("--generate")) {
        let kind = match first.strip_prefix('=') {
            Some(k) => Some(k),
            None if first.is_empty() => argv.get(1).map(String::as_str),
            None => None,
        };
        if let Some(kind) = kind {
            return generate(kind);
        }
    }
    let a = args::parse(argv).map_err(|e| arg_error(&e))?;
    if a.help {
        print!("{}", HELP);
        return Ok(());
    }
    if a.version {
        println!(
            "dorsal {} (compatible with TShark 4.0.17)",
            env!("CARGO_PKG_VERSION")
        );
        return Ok(());
    }

    // The report without -Y reads the capture as Scapy does, not through
    // the engine; only input Scapy cannot read goes the engine's way.
    if let (Some(dir), None, [path]) = (&a.report, &a.display_filter, a.read.as_slice()) {
        if !std::path::Path::new(path).is_dir() {
            if let Some(done) = scapy_report(dir, path) {
                return done;
            }
        }
    }

    let (protocols, reg) = Protocols::new(dorsal::PROTOCOLS);
    let stats = protocols.stats();
    let field_ids = resolve_fields(&a, &reg)?;
    check_output_mode(&a)?;
    let mut taps = Taps::new();
    for z in &a.stats {
        add_stat(&mut taps, z, &reg, &stats)?;
    }
    let mut exports = Vec::new();
    for x in &a.export_objects {
        exports.push(check_export(x, &protocols.export_types())?);
    }
    if let Some(file) = &a.export_credentials {
        let sources = protocols.credential_sources();
        match CredentialsCsv::create(std::path::Path::new(file), sources) {
            Ok(tap) => taps.add(Box::new(tap), None),
            Err(e) => {
                error(&format!(
                    "The credentials file \"{file}\" could not be created: {e}"
                ));
                return Err(2);
            }
        }
    }

    let report = match &a.report {
        Some(dir) => Some(start_report(dir, &a, &reg, &mut taps)?),
        None => None,
    };

    let compile = |text: &Option<String>| -> Result<Option<Filter>, u8> {
        match text {
            None => Ok(None),
            Some(t) => Filter::compile(t, &reg)
                .map(Some)
                .map_err(|e| filter_error(t, &e)),
        }
    };
    let (display_filter, read_filter) = if a.two_pass {
        (compile(&a.display_filter)?, compile(&a.read_filter)?)
    } else {
        if a.read_filter.is_some() {
            error("-R without -2 is deprecated. For single-pass filtering use -Y.");
            return Err(1);
        }
        (compile(&a.display_filter)?, None)
    };

    let Some(path) = a.read.first().cloned() else {
        error("live capture is not supported; read a capture file with -r FILE (or -r - for standard input).");
        return Err(1);
    };
    let paths = input_files(&a.read)?;
    let writer = match &a.write {
        Some(w) => Some(create_writer(w, &a, &paths)?),
        None => None,
    };

    let opts = RunOptions {
        paths,
        display_filter,
        two_pass: a.two_pass,
        read_filter,
        count: a.count,
        fields: field_ids.clone(),
        full_dissection: !exports.is_empty(),
        exiting: true,
    };
    // Export objects are written by the last pass only.
    let mut writers: Vec<Rc<RefCell<ObjectWriter>>> = Vec::new();
    for (proto, dir) in &exports {
        match ObjectWriter::new(proto, std::path::Path::new(dir)) {
            Ok(w) => writers.push(Rc::new(RefCell::new(w))),
            Err(e) => {
                eprintln!("Failed to create export objects output directory \"{dir}\": {e}");
                return Err(2);
            }
        }
    }
    let passes = std::cell::Cell::new(0u32);
    let build = |demand: &Demand<'_>| -> Dissectors {
        passes.set(passes.get() + 1);
        let last = !a.two_pass || passes.get() >= 2;
        let eo: Option<SharedSink> = match writers.as_slice() {
            _ if !last => None,
            [] => None,
            [one] => Some(one.clone() as SharedSink),
            _ => Some(Rc::new(RefCell::new(Fanout(writers.clone()))) as SharedSink),
        };
        protocols.dissectors(demand, eo)
    };
    let build_worker = |demand: &Demand<'_>| protocols.dissectors(demand, None);
    // `-l` shows each frame as soon as it is read: one thread, no batches.
    let jobs = match a.jobs {
        _ if a.line_buffered => 1,
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
    };
    let shard = |linktype: u32, data: &[u8]| protocols.shard_key(linktype, data);
    let parallel = Parallel {
        jobs,
        build: &build_worker,
        shard: &shard,
    };

    let stdout = io::stdout();
    let out: Box<dyn Write> = if a.line_buffered {
        Box::new(io::LineWriter::new(stdout.lock()))
    } else {
        Box::new(BufWriter::with_capacity(256 * 1024, stdout.lock()))
    };
    let mut sink: Box<dyn Sink + '_> = match a.format {
        // Writing a capture prints the summary only when asked to (-P).
        _ if a.quiet || report.is_some() || (writer.is_some() && !a.print_summary) => {
            Box::new(dorsal_engine::output::Discard)
        }
        // tshark prints its one-line summaries beside the export; dorsal
        // does not print those yet.
        OutputFormat::Text if !exports.is_empty() || a.export_credentials.is_some() => {
            Box::new(dorsal_engine::output::Discard)
        }
        OutputFormat::Fields => Box::new(FieldsPrinter::new(
            &reg,
            field_ids,
            a.fields_opts.clone(),
            out,
        )),
        OutputFormat::Parquet => {
            let info = dorsal_parquet::FileInfo {
                command_line: std::env::args().collect::<Vec<_>>().join(" "),
                version: format!("dorsal {}", env!("CARGO_PKG_VERSION")),
            };
            let occurrence = a.fields_opts.occurrence;
            let out = BufWriter::with_capacity(256 * 1024, io::stdout());
            match dorsal_parquet::ParquetSink::new(&reg, &field_ids, occurrence, out, info) {
                Ok(s) => Box::new(s),
                Err(e) => {
                    error(&format!("-T parquet: {e}"));
                    return Err(2);
                }
            }
        }
        OutputFormat::Json => Box::new(JsonPrinter::new(&reg, field_ids, false, out)),
        OutputFormat::Ek => Box::new(JsonPrinter::new(&reg, field_ids, true, out)),
        OutputFormat::Text => Box::new(TextPrinter::new(
            out,
            TextOptions {
                time: a.time_format,
                hms: a.hms,
                ..TextOptions::default()
            },
        )),
    };
    if let Some(w) = writer {
        sink = Box::new(Tee(sink, w));
    }
    let progress = progress::Progress::start(&opts.paths, if a.two_pass { 2 } else { 1 });
    let result = run_with_taps(
        &opts,
        &reg,
        &build,
        Some(parallel),
        sink.as_mut(),
        &mut taps,
    );
    drop(sink);
    // Cleared before the statistics and error messages print.
    drop(progress);
    let result = match result {
        Err(RunError::Output(e)) => Err(RunError::Output(e)),
        other => {
            // Statistics print after the frames, also when the capture
            // was cut short.
            let mut out = io::stdout().lock();
            let drawn = taps.draw(&mut out).and_then(|()| out.flush());
            match (other, drawn) {
                (Ok(()), Err(e)) => Err(RunError::Output(e)),
                (other, _) => other,
            }
        }
    };
    if let Some((dir, state)) = &report {
        return finish_report(dir, state, &path, result);
    }
    match result {
        Ok(()) => Ok(()),
        Err(RunError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(RunError::Output(e)) => {
            error(&format!("An error occurred while writing the output: {e}"));
            Err(2)
        }
        Err(RunError::Capture(e)) => {
            error(&capture_message(&path, &e));
            Err(2)
        }
    }
}

/// The files `-r` names, each folder replaced by the captures in it (the
/// others skipped with a note).
fn input_files(read: &[String]) -> Result<Vec<String>, u8> {
    match dorsal_engine::capture::set::expand_folders(read) {
        Ok((paths, skipped)) => {
            for s in skipped {
                eprintln!(
                    "{PROG}: Skipping \"{}\", not a capture file: {}",
                    s.path,
                    capture_message(&s.path, &s.error)
                );
            }
            Ok(paths)
        }
        Err(e) => {
            error(&capture_message(
                read.first().map_or("", String::as_str),
                &e,
            ));
            Err(2)
        }
    }
}

/// `-w FILE`: refused, in tshark's words, when FILE is a folder or its
/// folder does not exist, and (dorsal's own rule) when it is one of the
/// inputs; otherwise its temporary file is created.
fn create_writer<'a>(w: &str, a: &Args, inputs: &[String]) -> Result<Box<dyn Sink + 'a>, u8> {
    if w == "-" {
        let out = Box::new(BufWriter::with_capacity(256 * 1024, io::stdout()));
        return Ok(Box::new(CaptureWriter::to_stream(out, a.write_format)));
    }
    let path = std::path::Path::new(w);
    if path.is_dir() || w.ends_with('/') {
        error(&format!("\"{w}\" is a directory (folder), not a file."));
        return Err(2);
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    if !parent.is_dir() {
        error(&format!("The path to the file \"{w}\" doesn't exist."));
        return Err(2);
    }
    if let Ok(out) = std::fs::canonicalize(path) {
        let same = inputs
            .iter()
            .any(|i| std::fs::canonicalize(i).is_ok_and(|i| i == out));
        if same {
            error(&format!(
                "The output file \"{w}\" is one of the input files; it would be overwritten while being read."
            ));
            return Err(2);
        }
    }
    match CaptureWriter::create(path, a.write_format) {
        Ok(writer) => Ok(Box::new(writer)),
        Err(e) => {
            error(&format!("The file \"{w}\" could not be created: {e}."));
            Err(2)
        }
    }
}

type ReportState = Rc<RefCell<dorsal_report::Report>>;

/// `--report DIR`: creates DIR (as the script does before reading) and
/// adds the report's tap, restricted by `-Y` when one is given.
fn start_report(
    dir: &str,
    a: &Args,
    reg: &Registry,
    taps: &mut Taps,
) -> Result<(String, ReportState), u8> {
    let filter = match &a.display_filter {
        None => None,
        Some(t) => Some(Filter::compile(t, reg).map_err(|e| filter_error(t, &e))?),
    };
    if let Err(e) = dorsal_report::prepare_dir(std::path::Path::new(dir)) {
        error(&e.to_string());
        return Err(2);
    }
    let state = Rc::new(RefCell::new(dorsal_report::Report::new(
        a.display_filter.clone(),
    )));
    taps.add(Box::new(dorsal_report::ReportTap(state.clone())), filter);
    Ok((dir.to_string(), state))
}

/// `--report DIR` read the script's way; `None`: not a capture Scapy
/// reads (zstd, lz4), left to the engine.
fn scapy_report(dir: &str, path: &str) -> Option<Result<(), u8>> {
    use dorsal_report::read::ReadError;
    if let Err(e) = dorsal_report::prepare_dir(std::path::Path::new(dir)) {
        error(&e.to_string());
        return Some(Err(2));
    }
    let mut report = dorsal_report::Report::new(None);
    let input: Box<dyn io::Read> = if path == "-" {
        Box::new(io::stdin().lock())
    } else {
        match std::fs::File::open(path) {
            Ok(f) => Box::new(io::BufReader::with_capacity(256 * 1024, f)),
            Err(e) => {
                let msg = match e.kind() {
                    io::ErrorKind::NotFound => CaptureError::NotFound,
                    _ => CaptureError::Io(e),
                };
                error(&capture_message(path, &msg));
                return Some(Err(2));
            }
        }
    };
    match report.read(input) {
        Ok(end) => {
            if end.truncated {
                error(&capture_message(path, &CaptureError::CutShort));
            }
        }
        Err(ReadError::NotSupported(_)) if path != "-" => return None,
        Err(ReadError::NotSupported(_)) => {
            error(&capture_message(path, &CaptureError::UnknownFormat));
            return Some(Err(2));
        }
        Err(ReadError::Invalid(why)) => {
            error(&capture_message(
                path,
                &CaptureError::Corrupt(why.to_string()),
            ));
            return Some(Err(2));
        }
        Err(ReadError::Io(e)) => {
            error(&capture_message(path, &CaptureError::Io(e)));
            return Some(Err(2));
        }
    }
    let state = Rc::new(RefCell::new(report));
    Some(finish_report(dir, &state, path, Ok(())))
}

/// Writes the report of what was read. A capture cut short or damaged
/// mid-way still gets its report (Scapy reads up to the damage) after
/// tshark's warning; a capture that could not be read at all gets none.
fn finish_report(
    dir: &str,
    state: &ReportState,
    path: &str,
    result: Result<(), RunError>,
) -> Result<(), u8> {
    match &result {
        Ok(()) => {}
        Err(RunError::Capture(e @ (CaptureError::CutShort | CaptureError::Corrupt(_)))) => {
            error(&capture_message(path, e));
        }
        Err(RunError::Capture(e)) => {
            error(&capture_message(path, e));
            return Err(2);
        }
        Err(RunError::Output(e)) => {
            error(&format!("An error occurred while writing the output: {e}"));
            return Err(2);
        }
    }
    let Ok(report) = state.try_borrow() else {
        return Err(2);
    };
    match dorsal_report::write_report(&report, std::path::Path::new(dir), path) {
        Ok(lines) => {
            let mut out = io::stdout().lock();
            match out.write_all(lines.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                    error(&format!("An error occurred while writing the output: {e}"));
                    Err(2)
                }
                _ => Ok(()),
            }
        }
        Err(e) => {
            error(&e.to_string());
            Err(2)
        }
    }
}

/// Sends each exported object to every writer (each keeps its own type).
struct Fanout(Vec<Rc<RefCell<ObjectWriter>>>);

impl ObjectSink for Fanout {
    fn object(&mut self, proto: &str, obj: &dorsal_engine::taps::ExportObject<'_>) {
        for w in &self.0 {
            if let Ok(mut w) = w.try_borrow_mut() {
                w.object(proto, obj);
            }
        }
    }

    fn piece(
        &mut self,
        proto: &str,
        key: u64,
        obj: &dorsal_engine::taps::ExportObject<'_>,
        offset: u64,
    ) {
        for w in &self.0 {
            if let Ok(mut w) = w.try_borrow_mut() {
                w.piece(proto, key, obj, offset);
            }
        }
    }

    fn append(&mut self, proto: &str, key: u64, obj: &dorsal_engine::taps::ExportObject<'_>) {
        for w in &self.0 {
            if let Ok(mut w) = w.try_borrow_mut() {
                w.append(proto, key, obj);
            }
        }
    }
}

fn resolve_fields(a: &Args, reg: &Registry) -> Result<Vec<FieldId>, u8> {
    let mut ids = Vec::new();
    let mut bad = Vec::new();
    for name in &a.fields {
        match reg.lookup(name) {
            Some(id) => ids.push(id),
            None => bad.push(name.as_str()),
        }
    }
    if !bad.is_empty() {
        let mut msg = "Some fields aren't valid:".to_string();
        for b in bad {
            msg.push_str("\n\t");
            msg.push_str(b);
        }
        error(&msg);
        return Err(1);
    }
    Ok(ids)
}

fn check_output_mode(a: &Args) -> Result<(), u8> {
    match a.format {
        OutputFormat::Fields if a.fields.is_empty() => {
            error("\"-Tfields\" was specified, but no fields were specified with \"-e\".");
            Err(1)
        }
        OutputFormat::Text if !a.fields.is_empty() => {
            error("Output fields were specified with \"-e\", but \"-Tek, -Tfields, -Tjson or -Tpdml\" was not specified.");
            Err(1)
        }
        OutputFormat::Parquet if a.fields.is_empty() => {
            error("\"-Tparquet\" was specified, but no fields were specified with \"-e\".");
            Err(1)
        }
        // Binary on a terminal helps no one (as zstd and gzip refuse).
        OutputFormat::Parquet if !a.quiet && std::io::IsTerminal::is_terminal(&io::stdout()) => {
            error("-T parquet writes a binary file: redirect standard output to a file or a pipe.");
            Err(1)
        }
        OutputFormat::Json | OutputFormat::Ek if a.fields.is_empty() => {
            error("-T json and -T ek without -e are not supported yet; name the fields with -e.");
            Err(1)
        }
        _ => Ok(()),
    }
}

/// Statistics tshark knows that another part of dorsal will compute.
const STATS_LATER: &[&str] = &[];

/// Parses one `-z` argument into its tap, with tshark's errors.
fn add_stat(taps: &mut Taps, z: &str, reg: &Registry, stats: &[Stat]) -> Result<(), u8> {
    match taps.add_spec(z, reg, stats) {
        Ok(()) => Ok(()),
        Err(TapError::Filter {
            what,
            filter,
            error: e,
        }) => {
            error(&format!(
                "Couldn't register {what} tap: Filter \"{filter}\" is invalid - {}",
                e.message
            ));
            Err(1)
        }
        Err(TapError::Unknown) => {
            let later = STATS_LATER
                .iter()
                .any(|s| z == *s || z.strip_prefix(s).is_some_and(|r| r.starts_with(',')));
            if later {
                error(&format!("-z {z} is not supported by dorsal yet."));
                return Err(1);
            }
            let mut names: Vec<&str> = stats.iter().flat_map(|s| s.names).copied().collect();
            names.extend(STATS_LATER);
            names.sort_unstable();
            let mut msg = format!("Invalid -z argument \"{z}\"; it must be one of:");
            for s in names {
                msg.push_str("\n     ");
                msg.push_str(s);
            }
            error(&msg);
            Err(1)
        }
    }
}

/// `--export-objects PROTO,DIR`, checked against tshark's types and the
/// ones the protocol crates write.
fn check_export(x: &str, exports: &[&str]) -> Result<(String, String), u8> {
    let Some((proto, dir)) = x.split_once(',') else {
        error("\"--export-objects\" are specified as: <protocol>,<destdir>");
        return Err(1);
    };
    const KNOWN: &[&str] = &["dicom", "ftp-data", "http", "imf", "smb", "tftp"];
    if !KNOWN.contains(&proto) || dir.is_empty() {
        error("\"--export-objects\" are specified as: <protocol>,<destdir>");
        let mut msg =
            "TShark: The available export object types for the \"--export-objects\" option are:"
                .to_string();
        for k in KNOWN {
            msg.push_str("\n     ");
            msg.push_str(k);
        }
        eprintln!("{msg}");
        return Err(1);
    }
    if !exports.contains(&proto) {
        error(&format!(
            "--export-objects {proto} is not supported by dorsal yet."
        ));
        return Err(1);
    }
    Ok((proto.to_string(), dir.to_string()))
}

fn arg_error(e: &ArgError) -> u8 {
    error(&e.message);
    if e.usage {
        eprintln!("\nUsage: {PROG} [options] ...\n\nRun `{PROG} -h` for the options.");
    }
    u8::try_from(e.code).unwrap_or(1)
}

/// tshark's filter error: the message, the filter, and a caret under the span.
fn filter_error(text: &str, e: &FilterError) -> u8 {
    let mut msg = e.message.clone();
    if let Some((start, end)) = e.span {
        let pad = text.get(..start).map(|s| s.chars().count()).unwrap_or(0);
        let width = text
            .get(start..end)
            .map(|s| s.chars().count())
            .unwrap_or(1)
            .max(1);
        msg.push_str(&format!(
            "\n    {text}\n    {}^{}",
            " ".repeat(pad),
            "~".repeat(width - 1)
        ));
    }
    error(&msg);
    2
}

fn capture_message(path: &str, e: &CaptureError) -> String {
    match e {
        CaptureError::NotFound => format!("The file \"{path}\" doesn't exist."),
        CaptureError::UnknownFormat => {
            format!("The file \"{path}\" isn't a capture file in a format TShark understands.")
        }
        CaptureError::CutShort => {
            format!("The file \"{path}\" appears to have been cut short in the middle of a packet.")
        }
        CaptureError::Corrupt(why) => {
            format!("The file \"{path}\" appears to be damaged or corrupt.\n({why})")
        }
        CaptureError::UnsupportedEncap(why) => {
            format!(
                "The file \"{path}\" contains record data that TShark doesn't support.\n({why})"
            )
        }
        CaptureError::Io(err) => {
            format!("An error occurred while reading from the file \"{path}\": {err}.")
        }
        CaptureError::EmptyFolder => format!("The folder \"{path}\" holds no capture file."),
        CaptureError::Open { path, error } => capture_message(path, error),
        CaptureError::Damaged(files) => files
            .iter()
            .map(|f| {
                format!(
                    "{} (read up to its packet {}; the rest of the set was read.)",
                    capture_message(&f.path, &f.error),
                    f.records
                )
            })
            .collect::<Vec<_>>()
            .join(&format!("\n{PROG}: ")),
    }
}

const HELP: &str = "dorsal (compatible with TShark 4.0.17)
Extract fields from packet captures, as tshark does, many times faster.

Usage: dorsal [options] ...

Input:
  -r <infile|folder|->     read packets from a capture file (pcap, pcapng; gzip,
                           zstd or lz4 compressed), every capture in a folder,
                           or standard input; several -r are read as one
                           stream in timestamp order, as mergecap merges them
Processing:
  -2                       perform a two-pass analysis
  -R <read filter>         packet read filter (with -2)
  -Y <display filter>      packet display filter in Wireshark display filter syntax
  -n                       disable all name resolutions (the default)
Output:
  -T fields|json|ek        output format
  -e <field>               field to print (repeatable)
  -E <fieldsoption>=<value> header=y|n, separator=/t|/s|<char>, occurrence=f|l|a,
                           aggregator=,|/s|<char>, quote=d|s|n, bom=y|n
  -c <packet count>        stop after n displayed packets
  -w <outfile|->           write the displayed packets to a capture file
  -F pcap|pcapng|nsecpcap  the format -w writes (default pcapng)
  -P                       print the packet summary while writing (-w)
  -l                       flush standard output after each packet
  -q                       be more quiet on stdout (e.g. when using statistics)
  -z <statistics>          io,phs | conv,TYPE | endpoints,TYPE | credentials
  --export-objects <protocol>,<destdir>
                           save exported objects for a protocol to a directory
  --export-credentials <file.csv>
                           write the credentials seen (FTP, HTTP basic) as CSV
  --report <dir>           write the forensic report <dir>/pcap_forensic_report.json
                           (the Scapy analyzer's, see README) and print its summary
Miscellaneous:
  -h                       display this help and exit
  -v                       display version info and exit
  -G [fields|protocols]    as first option: list the fields or protocols
                           dorsal prints, in tshark's glossary format
  --generate man|complete-bash|complete-zsh|complete-fish|complete-powershell
                           as first option: print the man page or a completion script
";
