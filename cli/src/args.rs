//! tshark's command line, parsed the way its getopt does: short options
//! with attached or separate values (`-c7`, `-c 7`, `-Eheader=y`), long
//! options with `=` or a separate value.
//!
//! clap splits the command line ([`crate::command::parsing_command`], the
//! definition the man page and completions come from); this module turns
//! clap's errors into getopt's words and checks each value as tshark does,
//! in command-line order, since tshark's messages and exit codes are the
//! contract. Unlike tshark, `-r` may be given many times: the files are
//! read as one.

use dorsal_engine::output::{CaptureFormat, FieldsOptions, Occurrence, TimeFormat};

/// Output format chosen with `-T`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Fields,
    Json,
    Ek,
    /// dorsal's own: the `-e` fields as one Parquet file on standard output.
    Parquet,
}

/// Everything the command line asked for.
#[derive(Debug)]
pub struct Args {
    /// Every `-r`, in order (files or folders).
    pub read: Vec<String>,
    /// `-w FILE` (`-` for standard output).
    pub write: Option<String>,
    /// `-F`: the format `-w` writes (pcapng when not given).
    pub write_format: CaptureFormat,
    /// `-P`: print the summary while writing.
    pub print_summary: bool,
    pub display_filter: Option<String>,
    pub read_filter: Option<String>,
    pub two_pass: bool,
    pub format: OutputFormat,
    pub fields: Vec<String>,
    pub fields_opts: FieldsOptions,
    pub count: Option<u64>,
    /// `-j N`: cores to use (dorsal's own; tshark's `-j` takes a
    /// protocol filter for JSON, which dorsal does not have). `None`: one
    /// per core.
    pub jobs: Option<usize>,
    pub line_buffered: bool,
    pub quiet: bool,
    pub stats: Vec<String>,
    pub export_objects: Vec<String>,
    /// `--export-credentials FILE.csv` (dorsal's own; the last one wins).
    pub export_credentials: Option<String>,
    /// `--report DIR`: the forensic report (dorsal's own; the last one wins).
    pub report: Option<String>,
    pub help: bool,
    pub version: bool,
    /// `-t` and `-u hms` of the text view.
    pub time_format: TimeFormat,
    pub hms: bool,
}

/// A command line tshark would refuse: the message and the exit code.
#[derive(Debug, PartialEq, Eq)]
pub struct ArgError {
    pub message: String,
    pub code: i32,
    /// Follow the message with the usage text.
    pub usage: bool,
}

impl ArgError {
    fn new(message: impl Into<String>) -> Self {
        ArgError {
            message: message.into(),
            code: 1,
            usage: false,
        }
    }
}

/// Parses the command line on [`crate::command::command`], then applies
/// each option in the order given, so the first bad value is the one named.
pub fn parse(argv: &[String]) -> Result<Args, ArgError> {
    let mut a = Args {
        read: Vec::new(),
        write: None,
        write_format: CaptureFormat::Pcapng,
        print_summary: false,
        display_filter: None,
        read_filter: None,
        two_pass: false,
        format: OutputFormat::Text,
        fields: Vec::new(),
        fields_opts: FieldsOptions::default(),
        count: None,
        jobs: None,
        line_buffered: false,
        quiet: false,
        stats: Vec::new(),
        export_objects: Vec::new(),
        export_credentials: None,
        report: None,
        help: false,
        version: false,
        time_format: TimeFormat::default(),
        hms: false,
    };
    let mut cmd = crate::command::parsing_command();
    let m = cmd
        .try_get_matches_from_mut(
            std::iter::once(PROG_NAME.to_string()).chain(argv.iter().cloned()),
        )
        .map_err(clap_error)?;
    // Every occurrence of every option, at its place on the command line.
    let mut given: Vec<(usize, Opt, Option<String>)> = Vec::new();
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        let opt = match (arg.get_short(), arg.get_long()) {
            (Some(c), _) => Opt::Short(c),
            (None, Some(l)) => Opt::Long(l.to_string()),
            (None, None) => continue,
        };
        // Flags have defaults; only what the command line gave counts.
        if m.value_source(id) != Some(clap::parser::ValueSource::CommandLine) {
            continue;
        }
        let Some(indices) = m.indices_of(id) else {
            continue;
        };
        let takes_value = arg.get_action().takes_values();
        if takes_value {
            let values = m.get_raw(id).into_iter().flatten();
            for (i, v) in indices.zip(values) {
                given.push((i, opt.clone(), Some(v.to_string_lossy().into_owned())));
            }
        } else {
            for i in indices {
                given.push((i, opt.clone(), None));
            }
        }
    }
    given.sort_by_key(|(i, _, _)| *i);
    for (_, opt, value) in given {
        match (opt, value) {
            (Opt::Short(c), Some(v)) => apply(&mut a, c, v)?,
            (Opt::Short(c), None) => flag(&mut a, c)?,
            (Opt::Long(l), v) => long(&mut a, &l, v)?,
        }
    }
    Ok(a)
}

const PROG_NAME: &str = "dorsal";

#[derive(Clone)]
enum Opt {
    Short(char),
    Long(String),
}

/// clap's parse errors in tshark's (getopt's) words.
fn clap_error(e: clap::Error) -> ArgError {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let context = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    let arg = context(ContextKind::InvalidArg);
    // "-c <count>" or "--report <DIR>": the option as written.
    let name = arg.split(' ').next().unwrap_or_default().to_string();
    match e.kind() {
        ErrorKind::UnknownArgument => match name.strip_prefix("--") {
            Some(l) => usage_error(&format!(
                "unrecognized option: {}",
                l.split('=').next().unwrap_or(l)
            )),
            None => usage_error(&format!(
                "invalid option -- '{}'",
                name.trim_start_matches('-')
            )),
        },
        ErrorKind::InvalidValue | ErrorKind::NoEquals => match name.strip_prefix("--") {
            Some(l) => usage_error(&format!("option '--{l}' requires an argument")),
            // tshark lists the formats instead of its usage.
            None if name == "-F" => ArgError::new(format!(
                "option requires an argument: F\n{}",
                capture_formats()
            )),
            None => usage_error(&format!(
                "option requires an argument: {}",
                name.trim_start_matches('-')
            )),
        },
        _ => usage_error(&e.to_string()),
    }
}

/// A flag.
fn flag(a: &mut Args, c: char) -> Result<(), ArgError> {
    match c {
        '2' => a.two_pass = true,
        'l' => a.line_buffered = true,
        'n' => {}
        'q' => a.quiet = true,
        'h' => a.help = true,
        'P' => a.print_summary = true,
        'v' => a.version = true,
        _ => {
            return Err(ArgError::new(format!(
                "The option -{c} is not supported by dorsal yet."
            )))
        }
    }
    Ok(())
}

/// A long option.
fn long(a: &mut Args, name: &str, v: Option<String>) -> Result<(), ArgError> {
    let v = v.unwrap_or_default();
    match name {
        "export-objects" => a.export_objects.push(v),
        "export-credentials" => a.export_credentials = Some(v),
        "report" => a.report = Some(v),
        "help" => a.help = true,
        "version" => a.version = true,
        // Read before parsing, as the first option only.
        _ => return Err(usage_error(&format!("unrecognized option: {name}"))),
    }
    Ok(())
}

/// tshark's list of `-F` formats (those dorsal writes), after its first
/// line, which the caller prefixes.
fn capture_formats() -> String {
    let mut s = "dorsal: The available capture file types for the \"-F\" flag are:".to_string();
    for (name, what, _) in CaptureFormat::ALL {
        s.push_str(&format!("\n    {name} - {what}"));
    }
    s
}

fn usage_error(msg: &str) -> ArgError {
    ArgError {
        message: msg.to_string(),
        code: 1,
        usage: true,
    }
}

fn apply(a: &mut Args, c: char, v: String) -> Result<(), ArgError> {
    match c {
        'r' => a.read.push(v),
        'w' => a.write = Some(v),
        'F' => {
            a.write_format = CaptureFormat::from_name(&v).ok_or_else(|| {
                ArgError::new(format!(
                    "\"{v}\" isn't a valid capture file type\n{}",
                    capture_formats()
                ))
            })?
        }
        'Y' => a.display_filter = Some(v),
        'R' => a.read_filter = Some(v),
        'e' => a.fields.push(v),
        'T' => {
            a.format = match v.as_str() {
                "fields" => OutputFormat::Fields,
                "json" => OutputFormat::Json,
                "ek" => OutputFormat::Ek,
                "parquet" => OutputFormat::Parquet,
                "text" => OutputFormat::Text,
                "pdml" | "ps" | "psml" | "jsonraw" | "tabs" => {
                    return Err(ArgError::new(format!(
                        "-T {v} is not supported by dorsal yet."
                    )))
                }
                _ => {
                    return Err(ArgError::new(format!(
                        "Invalid -T parameter \"{v}\"; it must be one of:\n{}",
                        T_CHOICES
                    )))
                }
            }
        }
        'E' => set_fields_option(&mut a.fields_opts, &v)?,
        'c' => {
            let n: u64 = v.parse().map_err(|_| {
                ArgError::new(format!(
                    "The specified packet count \"{v}\" isn't a decimal number"
                ))
            })?;
            if n == 0 {
                return Err(ArgError::new("The specified packet count is zero"));
            }
            a.count = Some(n);
        }
        'j' => {
            let n: usize = v.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                ArgError::new(format!(
                    "-j takes a number of threads (1 or more), not \"{v}\"; tshark's -j protocol filter is not supported."
                ))
            })?;
            a.jobs = Some(n);
        }
        'z' => a.stats.push(v),
        't' => {
            a.time_format = TimeFormat::parse(&v)
                .ok_or_else(|| ArgError::new(format!("Invalid time stamp type \"{v}\"; it must be one of:\n{T_FORMATS}")))?
        }
        'u' => {
            a.hms = match v.as_str() {
                "s" => false,
                "hms" => true,
                _ => return Err(ArgError::new(format!("Invalid seconds type \"{v}\"; it must be one of:\n\t\"s\"   for seconds\n\t\"hms\" for hours, minutes and seconds"))),
            }
        }
        // tshark reads -G only before getopt, as its first option.
        'G' => return Err(ArgError::new("-G only valid as first option")),
        'o' | 'N' | 'd' => {
            return Err(ArgError::new(format!(
                "The option -{c} is not supported by dorsal yet."
            )))
        }
        _ => {
            return Err(ArgError::new(format!(
                "The option -{c} is not supported by dorsal."
            )))
        }
    }
    Ok(())
}

const T_FORMATS: &str = "\t\"a\"    for absolute\n\t\"ad\"   for absolute with YYYY-MM-DD date\n\t\"adoy\" for absolute with YYYY/DOY date\n\t\"d\"    for delta\n\t\"dd\"   for delta displayed\n\t\"e\"    for epoch\n\t\"r\"    for relative\n\t\"u\"    for absolute UTC\n\t\"ud\"   for absolute UTC with YYYY-MM-DD date\n\t\"udoy\" for absolute UTC with YYYY/DOY date";

const T_CHOICES: &str = "\t\"fields\"  The values of fields specified with the -e option, in a form\n\t          specified by the -E option.\n\t\"json\"    Packet Summary, an JSON-based format for the details\n\t          summary information of a decoded packet.\n\t\"ek\"      Packet Details, an EK JSON-based format for the bulk insert \n\t          into elastic search cluster.";

const E_HELP: &str = "TShark: The available options for field output \"E\" are:
bom=y|n    Prepend output with the UTF-8 BOM (def: N: no)
header=y|n    Print field abbreviations as first line of output (def: N: no)
separator=/t|/s|<character>   Set the separator to use;
     \"/t\" = tab, \"/s\" = space (def: /t: tab)
occurrence=f|l|a  Select the occurrence of a field to use;
     \"f\" = first, \"l\" = last, \"a\" = all (def: a: all)
aggregator=,|/s|<character>   Set the aggregator to use;
     \",\" = comma, \"/s\" = space (def: ,: comma)
quote=d|s|n   Print either d: double-quotes, s: single quotes or 
     n: no quotes around field values (def: n: none)";

/// One `-E key=value`, with 4.0's accepted values.
fn set_fields_option(o: &mut FieldsOptions, kv: &str) -> Result<(), ArgError> {
    let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
    let bad = || {
        ArgError::new(format!(
            "\"{key}\" is not a valid field output option=value pair.\n{E_HELP}"
        ))
    };
    let first = value.chars().next();
    match key {
        "bom" | "header" => {
            let on = match first {
                Some('y' | 'Y') => true,
                Some('n' | 'N') => false,
                _ => return Err(bad()),
            };
            if key == "bom" {
                o.bom = on;
            } else {
                o.header = on;
            }
        }
        "separator" | "aggregator" => {
            let s = match value {
                "/t" => "\t".to_string(),
                "/s" => " ".to_string(),
                v => v.chars().next().map(String::from).unwrap_or_default(),
            };
            if s.is_empty() {
                return Err(bad());
            }
            if key == "separator" {
                o.separator = s;
            } else {
                o.aggregator = s;
            }
        }
        "occurrence" => {
            o.occurrence = match first {
                Some('f') => Occurrence::First,
                Some('l') => Occurrence::Last,
                Some('a') => Occurrence::All,
                _ => return Err(bad()),
            }
        }
        "quote" => {
            o.quote = match first {
                Some('d') => Some('"'),
                Some('s') => Some('\''),
                Some('n') => None,
                _ => return Err(bad()),
            }
        }
        _ => return Err(bad()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Args, ArgError> {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn attached_and_separate_values() {
        let a = p(&[
            "-r",
            "x",
            "-c7",
            "-Tfields",
            "-eframe.number",
            "-e",
            "ip.src",
            "-Eheader=y",
        ])
        .expect("parse");
        assert_eq!(a.read, vec!["x"]);
        assert_eq!(a.count, Some(7));
        assert_eq!(a.format, OutputFormat::Fields);
        assert_eq!(a.fields, vec!["frame.number", "ip.src"]);
        assert!(a.fields_opts.header);
    }

    #[test]
    fn every_r_kept_and_flags_cluster() {
        let a = p(&["-r", "a", "-nq", "-r", "b"]).expect("parse");
        assert_eq!(a.read, vec!["a", "b"]);
        assert!(a.quiet);
    }

    #[test]
    fn write_options() {
        let a = p(&["-r", "a", "-w", "o", "-Fpcap", "-P"]).expect("parse");
        assert_eq!(a.write.as_deref(), Some("o"));
        assert_eq!(a.write_format, CaptureFormat::Pcap);
        assert!(a.print_summary);
        let e = p(&["-F", "bogus"]).expect_err("bad -F");
        assert!(e
            .message
            .starts_with("\"bogus\" isn't a valid capture file type\n"));
        let e = p(&["-F"]).expect_err("no -F value");
        assert!(!e.usage);
        assert!(e.message.contains("    pcapng - Wireshark/... - pcapng"));
    }

    #[test]
    fn bad_values_get_tsharks_messages() {
        let e = p(&["-c", "abc"]).expect_err("bad count");
        assert_eq!(
            e.message,
            "The specified packet count \"abc\" isn't a decimal number"
        );
        let e = p(&["-E", "occurrence=2"]).expect_err("numeric occurrence is not 4.0");
        assert!(e
            .message
            .starts_with("\"occurrence\" is not a valid field output"));
        let e = p(&["-T", "nonsense"]).expect_err("bad -T");
        assert!(e
            .message
            .starts_with("Invalid -T parameter \"nonsense\"; it must be one of:"));
        let e = p(&["-r"]).expect_err("missing value");
        assert!(e.usage);
    }

    #[test]
    fn time_formats_and_seconds_types() {
        let a = p(&["-t", "ad", "-u", "hms"]).expect("parse");
        assert_eq!(a.time_format, TimeFormat::AbsoluteDate);
        assert!(a.hms);
        let e = p(&["-t", "ad.3"]).expect_err("4.0 takes no precision");
        assert!(e.message.starts_with("Invalid time stamp type \"ad.3\""));
        assert!(p(&["-u", "x"]).is_err());
    }

    #[test]
    fn separators_take_tsharks_escapes() {
        let a = p(&["-E", "separator=/s", "-E", "aggregator=;", "-E", "quote=s"]).expect("parse");
        assert_eq!(a.fields_opts.separator, " ");
        assert_eq!(a.fields_opts.aggregator, ";");
        assert_eq!(a.fields_opts.quote, Some('\''));
    }
}
