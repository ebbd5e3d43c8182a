//! `-T parquet`: the `-e` fields of the shown frames as one Parquet file,
//! typed from the field registry, for DuckDB, pandas/polars and Spark.
//!
//! One column per `-e` field, named by it. Integers printed in decimal keep
//! their width and sign, booleans are booleans, absolute times
//! `Timestamp(ns, UTC)`, relative times exact decimals of seconds with nine
//! places, byte fields binary; every other value (addresses, strings,
//! integers printed in hex) is the text `-T fields` prints for it. With
//! `-E occurrence=a` (the default) a column is a list of the field's values
//! in the frame; with `f` or `l` it holds the one value. A frame without the
//! field has null.
//!
//! Rows are written in batches, row groups hold about a million rows and
//! the file is zstd-compressed, so memory stays bounded whatever the
//! capture's size. Depends on the engine only (and the arrow crates).

use std::io::{self, Write};
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BinaryBuilder, BooleanBuilder, Decimal128Builder, Float32Builder, Float64Builder,
    Int16Builder, Int32Builder, Int64Builder, Int8Builder, ListBuilder, StringBuilder,
    TimestampNanosecondBuilder, UInt16Builder, UInt32Builder, UInt64Builder, UInt8Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use dorsal_engine::dissect::Frame;
use dorsal_engine::fields::{Base, FieldDef, FieldId, FieldType, Registry};
use dorsal_engine::format::write_value;
use dorsal_engine::output::{Occurrence, Sink};
use dorsal_engine::table::{FieldTable, Value};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

/// Rows per row group.
const ROW_GROUP: usize = 1 << 20;
/// Rows built in memory before they are handed to the writer.
const BATCH: usize = 1 << 13;
/// Relative times: seconds with nine decimals, 20 digits (an epoch time).
const REL_PRECISION: u8 = 20;
const REL_SCALE: i8 = 9;

/// How a field's values are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    U8,
    U16,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
    Bool,
    F32,
    F64,
    Time,
    Rel,
    Bin,
    Text,
}

impl Kind {
    fn of(def: &FieldDef) -> Kind {
        let decimal = matches!(def.base, Base::Dec | Base::None | Base::DecHex);
        match def.ftype {
            FieldType::U8 if decimal => Kind::U8,
            FieldType::U16 if decimal => Kind::U16,
            FieldType::U24 | FieldType::U32 if decimal => Kind::U32,
            FieldType::FrameNum => Kind::U32,
            FieldType::U64 if decimal => Kind::U64,
            FieldType::I8 if decimal => Kind::I8,
            FieldType::I16 if decimal => Kind::I16,
            FieldType::I32 if decimal => Kind::I32,
            FieldType::I64 if decimal => Kind::I64,
            FieldType::Bool => Kind::Bool,
            FieldType::Float => Kind::F32,
            FieldType::Double => Kind::F64,
            FieldType::AbsTime => Kind::Time,
            FieldType::RelTime => Kind::Rel,
            FieldType::Bytes => Kind::Bin,
            _ => Kind::Text,
        }
    }

    fn data_type(self) -> DataType {
        match self {
            Kind::U8 => DataType::UInt8,
            Kind::U16 => DataType::UInt16,
            Kind::U32 => DataType::UInt32,
            Kind::U64 => DataType::UInt64,
            Kind::I8 => DataType::Int8,
            Kind::I16 => DataType::Int16,
            Kind::I32 => DataType::Int32,
            Kind::I64 => DataType::Int64,
            Kind::Bool => DataType::Boolean,
            Kind::F32 => DataType::Float32,
            Kind::F64 => DataType::Float64,
            Kind::Time => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            Kind::Rel => DataType::Decimal128(REL_PRECISION, REL_SCALE),
            Kind::Bin => DataType::Binary,
            Kind::Text => DataType::Utf8,
        }
    }

    fn builder(self) -> Box<dyn ArrayBuilder> {
        match self {
            Kind::U8 => Box::new(UInt8Builder::new()),
            Kind::U16 => Box::new(UInt16Builder::new()),
            Kind::U32 => Box::new(UInt32Builder::new()),
            Kind::U64 => Box::new(UInt64Builder::new()),
            Kind::I8 => Box::new(Int8Builder::new()),
            Kind::I16 => Box::new(Int16Builder::new()),
            Kind::I32 => Box::new(Int32Builder::new()),
            Kind::I64 => Box::new(Int64Builder::new()),
            Kind::Bool => Box::new(BooleanBuilder::new()),
            Kind::F32 => Box::new(Float32Builder::new()),
            Kind::F64 => Box::new(Float64Builder::new()),
            Kind::Time => Box::new(TimestampNanosecondBuilder::new().with_timezone("UTC")),
            Kind::Rel => Box::new(
                Decimal128Builder::new()
                    .with_precision_and_scale(REL_PRECISION, REL_SCALE)
                    .unwrap_or_default(),
            ),
            Kind::Bin => Box::new(BinaryBuilder::new()),
            Kind::Text => Box::new(StringBuilder::new()),
        }
    }
}

/// One `-e` column being built.
struct Column {
    id: FieldId,
    kind: Kind,
    /// A list builder (occurrence `a`) or the values' own builder.
    builder: Box<dyn ArrayBuilder>,
}

/// What the file's key-value metadata records.
pub struct FileInfo {
    pub command_line: String,
    pub version: String,
}

/// The `-T parquet` sink.
pub struct ParquetSink<'r, W: Write + Send> {
    reg: &'r Registry,
    occurrence: Occurrence,
    columns: Vec<Column>,
    schema: Arc<Schema>,
    writer: Option<ArrowWriter<W>>,
    rows: usize,
    scratch: String,
}

impl<'r, W: Write + Send> ParquetSink<'r, W> {
    pub fn new(
        reg: &'r Registry,
        ids: &[FieldId],
        occurrence: Occurrence,
        out: W,
        info: FileInfo,
    ) -> io::Result<Self> {
        let list = occurrence == Occurrence::All;
        let mut fields = Vec::with_capacity(ids.len());
        let mut columns = Vec::with_capacity(ids.len());
        let mut seen = std::collections::HashMap::<&str, usize>::new();
        for &id in ids {
            let def = reg.def(id);
            let kind = Kind::of(def);
            // Parquet readers want distinct names: a repeated -e gets a suffix.
            let n = seen.entry(def.abbrev).or_insert(0);
            *n += 1;
            let name = match *n {
                1 => def.abbrev.to_string(),
                k => format!("{}_{k}", def.abbrev),
            };
            let data_type = if list {
                DataType::List(Arc::new(Field::new("item", kind.data_type(), true)))
            } else {
                kind.data_type()
            };
            fields.push(Field::new(name, data_type, true));
            let builder: Box<dyn ArrayBuilder> = if list {
                Box::new(
                    ListBuilder::new(kind.builder()).with_field(Arc::new(Field::new(
                        "item",
                        kind.data_type(),
                        true,
                    ))),
                )
            } else {
                kind.builder()
            };
            columns.push(Column { id, kind, builder });
        }
        let schema = Arc::new(Schema::new(fields));
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default()))
            .set_max_row_group_row_count(Some(ROW_GROUP))
            .set_key_value_metadata(Some(vec![
                KeyValue::new("dorsal.command_line".to_string(), info.command_line),
                KeyValue::new("dorsal.version".to_string(), info.version),
            ]))
            .build();
        let writer = ArrowWriter::try_new(out, schema.clone(), Some(props)).map_err(io_error)?;
        Ok(ParquetSink {
            reg,
            occurrence,
            columns,
            schema,
            writer: Some(writer),
            rows: 0,
            scratch: String::new(),
        })
    }

    /// Hands the rows built so far to the writer.
    fn flush_batch(&mut self) -> io::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .map(|c| c.builder.finish())
            .collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays).map_err(io_error)?;
        if let Some(w) = self.writer.as_mut() {
            w.write(&batch).map_err(io_error)?;
        }
        self.rows = 0;
        Ok(())
    }
}

impl<W: Write + Send> Sink for ParquetSink<'_, W> {
    fn begin(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn frame(&mut self, _frame: &Frame, _data: &[u8], t: &FieldTable) -> io::Result<()> {
        for c in &mut self.columns {
            let def = self.reg.def(c.id);
            match self.occurrence {
                Occurrence::All => {
                    let Some(list) = c
                        .builder
                        .as_any_mut()
                        .downcast_mut::<ListBuilder<Box<dyn ArrayBuilder>>>()
                    else {
                        continue;
                    };
                    let mut any = false;
                    for v in t.values(c.id) {
                        any = true;
                        append(
                            list.values().as_mut(),
                            c.kind,
                            Some(v),
                            def,
                            t,
                            &mut self.scratch,
                        );
                    }
                    list.append(any);
                }
                Occurrence::First => {
                    let v = t.values(c.id).next();
                    append(c.builder.as_mut(), c.kind, v, def, t, &mut self.scratch);
                }
                Occurrence::Last => {
                    let v = t.values(c.id).last();
                    append(c.builder.as_mut(), c.kind, v, def, t, &mut self.scratch);
                }
            }
        }
        self.rows += 1;
        if self.rows >= BATCH {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn end(&mut self) -> io::Result<()> {
        self.flush_batch()?;
        if let Some(w) = self.writer.take() {
            let mut out = w.into_inner().map_err(io_error)?;
            out.flush()?;
        }
        Ok(())
    }
}

fn io_error(e: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::other(e)
}

/// Appends one value (or a null) to a builder of `kind`.
fn append(
    b: &mut dyn ArrayBuilder,
    kind: Kind,
    v: Option<&Value>,
    def: &FieldDef,
    t: &FieldTable,
    scratch: &mut String,
) {
    let any = b.as_any_mut();
    macro_rules! int {
        ($builder:ty, $ty:ty) => {
            if let Some(b) = any.downcast_mut::<$builder>() {
                let n = match v {
                    Some(Value::U(u)) => <$ty>::try_from(*u).ok(),
                    Some(Value::I(i)) => <$ty>::try_from(*i).ok(),
                    Some(Value::Bool(x)) => Some(<$ty>::from(*x)),
                    _ => None,
                };
                b.append_option(n);
            }
        };
    }
    match kind {
        Kind::U8 => int!(UInt8Builder, u8),
        Kind::U16 => int!(UInt16Builder, u16),
        Kind::U32 => int!(UInt32Builder, u32),
        Kind::U64 => int!(UInt64Builder, u64),
        Kind::I8 => int!(Int8Builder, i8),
        Kind::I16 => int!(Int16Builder, i16),
        Kind::I32 => int!(Int32Builder, i32),
        Kind::I64 => int!(Int64Builder, i64),
        Kind::Bool => {
            if let Some(b) = any.downcast_mut::<BooleanBuilder>() {
                b.append_option(match v {
                    Some(Value::Bool(x)) => Some(*x),
                    Some(Value::U(u)) => Some(*u != 0),
                    _ => None,
                });
            }
        }
        Kind::F32 | Kind::F64 => {
            let f = match v {
                Some(Value::F(f)) => Some(*f),
                _ => None,
            };
            if let Some(b) = any.downcast_mut::<Float64Builder>() {
                b.append_option(f);
            } else if let Some(b) = any.downcast_mut::<Float32Builder>() {
                // FT_FLOAT values are single precision to begin with.
                b.append_option(f.map(|f| f as f32));
            }
        }
        Kind::Time => {
            if let Some(b) = any.downcast_mut::<TimestampNanosecondBuilder>() {
                b.append_option(match v {
                    Some(Value::AbsTime(ts)) => i64::try_from(ts.as_nanos()).ok(),
                    _ => None,
                });
            }
        }
        Kind::Rel => {
            if let Some(b) = any.downcast_mut::<Decimal128Builder>() {
                b.append_option(match v {
                    Some(Value::RelTime(n)) => Some(i128::from(*n)),
                    Some(Value::AbsTime(ts)) => Some(ts.as_nanos()),
                    _ => None,
                });
            }
        }
        Kind::Bin => {
            if let Some(b) = any.downcast_mut::<BinaryBuilder>() {
                match v {
                    Some(Value::Bytes(s)) => b.append_value(t.bytes(*s)),
                    Some(other) => {
                        scratch.clear();
                        write_value(scratch, def, other, t);
                        b.append_value(scratch.as_bytes());
                    }
                    None => b.append_null(),
                }
            }
        }
        Kind::Text => {
            if let Some(b) = any.downcast_mut::<StringBuilder>() {
                match v {
                    Some(v) => {
                        scratch.clear();
                        write_value(scratch, def, v, t);
                        b.append_value(scratch.as_str());
                    }
                    None => b.append_null(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
