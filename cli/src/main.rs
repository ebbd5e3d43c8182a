//! The `dorsal` binary: tshark's command line -> validated configuration ->
//! the engine's packet loop -> tshark's exit codes.

#![forbid(unsafe_code)]

mod args;

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use args::{ArgError, Args, OutputFormat};
use dorsal_engine::capture::CaptureError;
use dorsal_engine::dfilter::{Filter, FilterError};
use dorsal_engine::dissect::Dissectors;
use dorsal_engine::fields::{FieldId, Registry};
use dorsal_engine::output::{FieldsPrinter, JsonPrinter, Sink};
use dorsal_engine::run::{run, RunError, RunOptions};

const PROG: &str = "dorsal";

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match real_main(&argv) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => ExitCode::from(code),
    }
}

/// Prints `msg` as tshark prints its errors: prefixed with the program name.
fn error(msg: &str) {
    eprintln!("{PROG}: {msg}");
}

fn real_main(argv: &[String]) -> Result<(), u8> {
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

    let (reg, dissector_fields) = registry();
    let field_ids = resolve_fields(&a, &reg)?;
    check_output_mode(&a)?;
    for z in &a.stats {
        check_stat(z)?;
    }
    for x in &a.export_objects {
        check_export(x)?;
    }

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

    let Some(path) = a.read.clone() else {
        error("live capture is not supported; read a capture file with -r FILE (or -r - for standard input).");
        return Err(1);
    };

    let opts = RunOptions {
        path: path.clone(),
        display_filter,
        two_pass: a.two_pass,
        read_filter,
        count: a.count,
        fields: field_ids.clone(),
    };
    let build = || -> Dissectors {
        let mut ds = Dissectors::new();
        dorsal_link::register_dissectors(&dissector_fields.0, &mut ds);
        dorsal_dns::register_dissectors(&dissector_fields.1, &mut ds);
        dorsal_smb2::register_dissectors(&dissector_fields.2, &mut ds);
        ds
    };

    let stdout = io::stdout();
    let out: Box<dyn Write> = if a.line_buffered {
        Box::new(io::LineWriter::new(stdout.lock()))
    } else {
        Box::new(BufWriter::with_capacity(256 * 1024, stdout.lock()))
    };
    let mut sink: Box<dyn Sink + '_> = match a.format {
        _ if a.quiet => Box::new(NullSink),
        OutputFormat::Fields => Box::new(FieldsPrinter::new(
            &reg,
            field_ids,
            a.fields_opts.clone(),
            out,
        )),
        OutputFormat::Json => Box::new(JsonPrinter::new(&reg, field_ids, false, out)),
        OutputFormat::Ek => Box::new(JsonPrinter::new(&reg, field_ids, true, out)),
        OutputFormat::Text => {
            error("the one-line summary output is not supported yet; use -T fields with -e.");
            return Err(1);
        }
    };
    match run(&opts, &reg, &build, sink.as_mut()) {
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

/// Discards frames (`-q`).
struct NullSink;

impl Sink for NullSink {
    fn begin(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn frame(
        &mut self,
        _: &dorsal_engine::dissect::Frame,
        _: &dorsal_engine::table::FieldTable,
    ) -> io::Result<()> {
        Ok(())
    }
    fn end(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Every field of every dissector, and the ids the dissectors are built with.
fn registry() -> (
    Registry,
    (
        dorsal_link::Fields,
        dorsal_dns::DnsFields,
        dorsal_smb2::Smb2Fields,
    ),
) {
    let mut reg = Registry::new();
    let link = dorsal_link::register_fields(&mut reg);
    let dns = dorsal_dns::register_fields(&mut reg);
    let smb2 = dorsal_smb2::register_fields(&mut reg);
    (reg, (link, dns, smb2))
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
        OutputFormat::Json | OutputFormat::Ek if a.fields.is_empty() => {
            error("-T json and -T ek without -e are not supported yet; name the fields with -e.");
            Err(1)
        }
        _ => Ok(()),
    }
}

/// The statistics tshark knows that dorsal computes, or will.
const STATS: &[&str] = &[
    "io,phs",
    "conv,eth",
    "conv,ip",
    "conv,ipv6",
    "conv,tcp",
    "conv,udp",
    "endpoints,eth",
    "endpoints,ip",
    "endpoints,ipv6",
    "endpoints,tcp",
    "endpoints,udp",
    "credentials",
];

fn check_stat(z: &str) -> Result<(), u8> {
    let known = STATS
        .iter()
        .any(|s| z == *s || z.strip_prefix(s).is_some_and(|rest| rest.starts_with(',')));
    if !known {
        let mut msg = format!("Invalid -z argument \"{z}\"; it must be one of:");
        for s in STATS {
            msg.push_str("\n     ");
            msg.push_str(s);
        }
        error(&msg);
        return Err(1);
    }
    error(&format!("-z {z} is not supported by dorsal yet."));
    Err(1)
}

fn check_export(x: &str) -> Result<(), u8> {
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
    error(&format!(
        "--export-objects {proto} is not supported by dorsal yet."
    ));
    Err(1)
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
    }
}

const HELP: &str = "dorsal (compatible with TShark 4.0.17)
Extract fields from packet captures, as tshark does, many times faster.

Usage: dorsal [options] ...

Input:
  -r <infile|->            read packets from a capture file (pcap, pcapng; gzip,
                           zstd or lz4 compressed) or from standard input
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
  -l                       flush standard output after each packet
  -q                       be more quiet on stdout (e.g. when using statistics)
  -z <statistics>          io,phs | conv,TYPE | endpoints,TYPE | credentials
  --export-objects <protocol>,<destdir>
                           save exported objects for a protocol to a directory
Miscellaneous:
  -h                       display this help and exit
  -v                       display version info and exit
";
