use super::*;
use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, UInt16Type};
use arrow_array::Array;
use dorsal_engine::table::Timestamp;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn registry() -> (Registry, [FieldId; 4]) {
    let mut reg = Registry::new();
    let port = reg.add(FieldDef::new("x.port", "Port", FieldType::U16, Base::Dec));
    let name = reg.add(FieldDef::new(
        "x.name",
        "Name",
        FieldType::String,
        Base::None,
    ));
    let delta = reg.add(FieldDef::new(
        "x.delta",
        "Delta",
        FieldType::RelTime,
        Base::None,
    ));
    let when = reg.add(FieldDef::new(
        "x.when",
        "When",
        FieldType::AbsTime,
        Base::TimeUtc,
    ));
    (reg, [port, name, delta, when])
}

fn write(
    occurrence: Occurrence,
    frames: &[FieldTable],
    reg: &Registry,
    ids: &[FieldId],
) -> Vec<u8> {
    let info = FileInfo {
        command_line: "dorsal -T parquet".into(),
        version: "test".into(),
    };
    let mut sink = ParquetSink::new(reg, ids, occurrence, Vec::new(), info).expect("sink");
    for t in frames {
        sink.frame(&Frame::default(), &[], t).expect("frame");
    }
    sink.flush_batch().expect("flush");
    sink.writer
        .take()
        .expect("writer")
        .into_inner()
        .expect("file")
}

fn tables(ids: &[FieldId; 4]) -> Vec<FieldTable> {
    let mut a = FieldTable::new();
    a.push_u(ids[0], 80u16);
    a.push_u(ids[0], 8080u16);
    a.push_str(ids[1], b"host");
    a.push(ids[2], Value::RelTime(1_500_000_123));
    a.push(
        ids[3],
        Value::AbsTime(Timestamp::new(1_084_443_431, 266_912_000)),
    );
    let b = FieldTable::new();
    vec![a, b]
}

#[test]
fn scalars_are_typed_and_absent_fields_are_null() {
    let (reg, ids) = registry();
    let bytes = write(Occurrence::First, &tables(&ids), &reg, &ids);
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .expect("parquet")
        .build()
        .expect("reader");
    let batches: Vec<RecordBatch> = reader.map(|b| b.expect("batch")).collect();
    let batch = batches.first().expect("one batch");
    assert_eq!(batch.num_rows(), 2);
    let port = batch.column(0).as_primitive::<UInt16Type>();
    assert_eq!(port.value(0), 80);
    assert!(port.is_null(1));
    assert_eq!(batch.column(1).as_string::<i32>().value(0), "host");
    let delta = batch.column(2).as_primitive::<Decimal128Type>();
    assert_eq!(delta.value_as_string(0), "1.500000123");
    assert_eq!(
        batch.schema().field(3).data_type(),
        &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
    );
}

#[test]
fn every_occurrence_is_a_list() {
    let (reg, ids) = registry();
    let bytes = write(Occurrence::All, &tables(&ids), &reg, &ids);
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes)).expect("parquet");
    let kv = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .cloned()
        .unwrap_or_default();
    assert!(kv.iter().any(|k| k.key == "dorsal.command_line"));
    let batch = builder
        .build()
        .expect("reader")
        .next()
        .expect("batch")
        .expect("ok");
    let ports = batch.column(0).as_list::<i32>();
    let first = ports.value(0);
    let first = first.as_primitive::<UInt16Type>();
    assert_eq!(first.values().to_vec(), vec![80, 8080]);
    assert!(ports.is_null(1));
}
