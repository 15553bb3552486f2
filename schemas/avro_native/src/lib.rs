//! Avro binary decoding straight to Python objects, and encoding back, for credstream's
//! codec.
//!
//! fastavro walks its parsed schema (a tree of Python dicts) for every record it reads:
//! about 7 us of a small assessment event's 9 us to decode, the largest single cost in
//! the processor and the signer (README, performance). A `Reader` compiles the writer's
//! schema once into a tree of Rust nodes, with the field names as interned strings, and
//! builds the same objects fastavro returns: dicts for records and maps, lists, str,
//! bytes, int, float, bool, None, enum symbols as str, and timestamp-millis as an aware
//! UTC `datetime`. It reads with the writer's schema only (no schema resolution); a
//! schema with anything else (another logical type, a recursive type) is refused with
//! ValueError at construction, and the codec keeps fastavro for it.
//!
//! fastavro's writer walks the schema the same way: ~20 us to encode a credential request
//! with one piece of evidence. A `Writer` compiles it once too and writes the bytes
//! fastavro writes for the values the codec hands it: dicts (or objects with the fields as
//! attributes) for records, lists and tuples for arrays, dicts with str keys for maps, str
//! for strings and enum symbols, int, float, bool, None, bytes, and aware datetimes (or
//! int) for timestamp-millis. Anything else it leaves to fastavro (`write` returns None),
//! which writes it or names what is wrong: one behaviour for every value, fastavro's. It
//! supports the schemas the contracts use (unions of null and one other type, no float);
//! others are refused at construction.

use std::collections::HashMap;
use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

#[derive(Clone)]
enum Node {
    Null,
    Boolean,
    Long, // Avro int and long: both zigzag varints
    Float,
    Double,
    Bytes,
    String,
    TimestampMillis,
    Fixed(usize),
    Enum(Arc<Vec<Py<PyString>>>),
    Array(Box<Node>),
    Map(Box<Node>),
    Union(Vec<Node>),
    Record(Arc<Vec<(Py<PyString>, Node)>>),
}

fn invalid(message: String) -> PyErr {
    PyValueError::new_err(message)
}

/// The schema's JSON, as `json.loads` returns it, compiled to nodes.
struct Compiler<'py> {
    py: Python<'py>,
    named: HashMap<String, Node>,
}

impl<'py> Compiler<'py> {
    fn compile(&mut self, schema: &Bound<'py, PyAny>, namespace: &str) -> PyResult<Node> {
        if let Ok(name) = schema.downcast::<PyString>() {
            return self.by_name(name.to_str()?, namespace);
        }
        if let Ok(branches) = schema.downcast::<PyList>() {
            let nodes = branches
                .iter()
                .map(|branch| self.compile(&branch, namespace))
                .collect::<PyResult<Vec<_>>>()?;
            return Ok(Node::Union(nodes));
        }
        let Ok(object) = schema.downcast::<PyDict>() else {
            return Err(invalid(format!("not an Avro schema: {schema}")));
        };
        let kind = required(object, "type")?;
        if let Some(logical) = object.get_item("logicalType")? {
            let logical: String = logical.extract()?;
            let base: Option<String> = kind.extract().ok();
            return match (logical.as_str(), base.as_deref()) {
                ("timestamp-millis", Some("long")) => Ok(Node::TimestampMillis),
                _ => Err(invalid(format!("logical type {logical} is not supported"))),
            };
        }
        let Ok(kind) = kind.extract::<String>() else {
            return self.compile(&kind, namespace); // {"type": {...}} or {"type": [...]}
        };
        match kind.as_str() {
            "record" | "error" => {
                let (full, inner) = full_name(object, namespace)?;
                let fields = required(object, "fields")?;
                let mut compiled = Vec::new();
                for field in fields.downcast::<PyList>()?.iter() {
                    let field = field.downcast::<PyDict>()?;
                    let name: String = required(field, "name")?.extract()?;
                    let node = self.compile(&required(field, "type")?, &inner)?;
                    compiled.push((PyString::intern(self.py, &name).unbind(), node));
                }
                Ok(self.define(full, Node::Record(Arc::new(compiled))))
            }
            "enum" => {
                let (full, _) = full_name(object, namespace)?;
                let symbols = required(object, "symbols")?
                    .downcast::<PyList>()?
                    .iter()
                    .map(|s| Ok(PyString::intern(self.py, &s.extract::<String>()?).unbind()))
                    .collect::<PyResult<Vec<_>>>()?;
                Ok(self.define(full, Node::Enum(Arc::new(symbols))))
            }
            "fixed" => {
                let (full, _) = full_name(object, namespace)?;
                let size: usize = required(object, "size")?.extract()?;
                Ok(self.define(full, Node::Fixed(size)))
            }
            "array" => {
                let items = self.compile(&required(object, "items")?, namespace)?;
                if may_be_empty(&items) {
                    // Its block counts could not be checked against the bytes left.
                    return Err(invalid("an array of items that may take no bytes".into()));
                }
                Ok(Node::Array(Box::new(items)))
            }
            "map" => Ok(Node::Map(Box::new(
                self.compile(&required(object, "values")?, namespace)?,
            ))),
            other => self.by_name(other, namespace),
        }
    }

    fn by_name(&self, name: &str, namespace: &str) -> PyResult<Node> {
        Ok(match name {
            "null" => Node::Null,
            "boolean" => Node::Boolean,
            "int" | "long" => Node::Long,
            "float" => Node::Float,
            "double" => Node::Double,
            "bytes" => Node::Bytes,
            "string" => Node::String,
            _ => {
                let qualified = format!("{namespace}.{name}");
                // A type named before its definition is complete (recursion) is unknown.
                return self
                    .named
                    .get(name)
                    .or_else(|| self.named.get(&qualified))
                    .cloned()
                    .ok_or_else(|| invalid(format!("unknown type {name}")));
            }
        })
    }

    fn define(&mut self, full: String, node: Node) -> Node {
        self.named.insert(full, node.clone());
        node
    }
}

/// The schema's JSON, as `json.loads` returns it, compiled to its root node.
fn compile(py: Python<'_>, schema: &Bound<'_, PyAny>) -> PyResult<Node> {
    let mut compiler = Compiler {
        py,
        named: HashMap::new(),
    };
    compiler.compile(schema, "")
}

/// Whether a value of the node can be encoded in no bytes at all.
fn may_be_empty(node: &Node) -> bool {
    match node {
        Node::Null => true,
        Node::Fixed(size) => *size == 0,
        Node::Record(fields) => fields.iter().all(|(_, field)| may_be_empty(field)),
        _ => false,
    }
}

fn required<'py>(object: &Bound<'py, PyDict>, key: &str) -> PyResult<Bound<'py, PyAny>> {
    object
        .get_item(key)?
        .ok_or_else(|| invalid(format!("schema object without {key:?}")))
}

/// (full name, namespace for the types inside it), as the Avro specification resolves them.
fn full_name(object: &Bound<'_, PyDict>, namespace: &str) -> PyResult<(String, String)> {
    let name: String = required(object, "name")?.extract()?;
    if let Some((space, _)) = name.rsplit_once('.') {
        return Ok((name.clone(), space.to_string()));
    }
    let space = match object.get_item("namespace")? {
        Some(space) => space.extract::<String>()?,
        None => namespace.to_string(),
    };
    let full = if space.is_empty() {
        name
    } else {
        format!("{space}.{name}")
    };
    Ok((full, space))
}

struct Cursor<'a> {
    data: &'a [u8],
    position: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, count: usize) -> PyResult<&'a [u8]> {
        let end = self
            .position
            .checked_add(count)
            .filter(|end| *end <= self.data.len())
            .ok_or_else(|| invalid(format!("unexpected end of data at byte {}", self.position)))?;
        let bytes = &self.data[self.position..end];
        self.position = end;
        Ok(bytes)
    }

    fn long(&mut self) -> PyResult<i64> {
        let mut value: u64 = 0;
        let mut shift = 0;
        loop {
            let byte = self.take(1)?[0];
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift >= 64 {
                return Err(invalid(format!(
                    "a varint longer than 10 bytes at byte {}",
                    self.position
                )));
            }
        }
        Ok(((value >> 1) as i64) ^ -((value & 1) as i64))
    }

    fn length(&mut self) -> PyResult<usize> {
        let length = self.long()?;
        usize::try_from(length).map_err(|_| invalid(format!("negative length {length}")))
    }

    fn index(&mut self, count: usize, what: &str) -> PyResult<usize> {
        let index = self.long()?;
        usize::try_from(index)
            .ok()
            .filter(|index| *index < count)
            .ok_or_else(|| invalid(format!("{what} index {index} out of range")))
    }

    /// The item count of the next block of an array or a map (0: the end). Every item
    /// takes at least a byte (a map's key; arrays of items that may not are refused), so a
    /// count beyond the bytes left is refused before it can loop for nothing.
    fn block(&mut self) -> PyResult<usize> {
        let count = self.long()?;
        if count < 0 {
            self.long()?; // the block's size in bytes, for skipping: not needed here
        }
        usize::try_from(count.unsigned_abs())
            .ok()
            .filter(|items| *items <= self.data.len() - self.position)
            .ok_or_else(|| invalid(format!("a block of {count} items in fewer bytes")))
    }

    /// Reads every item of an array or a map, block after block, with ``item``.
    fn each_item(&mut self, mut item: impl FnMut(&mut Self) -> PyResult<()>) -> PyResult<()> {
        loop {
            let count = self.block()?;
            if count == 0 {
                return Ok(());
            }
            for _ in 0..count {
                item(self)?;
            }
        }
    }

    fn string(&mut self) -> PyResult<&'a str> {
        let length = self.length()?;
        std::str::from_utf8(self.take(length)?)
            .map_err(|error| invalid(format!("a string that is not UTF-8: {error}")))
    }
}

/// Reads one record of a schema from Avro binary data (no framing), as fastavro's
/// `schemaless_reader` with the writer's schema.
#[pyclass(frozen, module = "credstream_avro_native")]
struct Reader {
    root: Node,
    datetime: Py<PyAny>,
    utc: Py<PyAny>,
}

#[pymethods]
impl Reader {
    /// ``schema``: the schema's JSON as ``json.loads`` returns it. Raises ValueError for
    /// a schema this reader does not support.
    #[new]
    fn new(py: Python<'_>, schema: &Bound<'_, PyAny>) -> PyResult<Self> {
        let root = compile(py, schema)?;
        let datetime = py.import("datetime")?;
        Ok(Reader {
            root,
            datetime: datetime.getattr("datetime")?.unbind(),
            utc: datetime.getattr("timezone")?.getattr("utc")?.unbind(),
        })
    }

    /// The value that starts at ``offset`` in ``data``, and the offset where it ends.
    /// Raises ValueError on data that does not decode with the schema.
    fn read<'py>(
        &self,
        py: Python<'py>,
        data: &[u8],
        offset: usize,
    ) -> PyResult<(Bound<'py, PyAny>, usize)> {
        let mut cursor = Cursor {
            data,
            position: offset,
        };
        let value = self.value(py, &self.root, &mut cursor)?;
        Ok((value, cursor.position))
    }
}

impl Reader {
    fn value<'py>(
        &self,
        py: Python<'py>,
        node: &Node,
        cursor: &mut Cursor<'_>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Ok(match node {
            Node::Null => py.None().into_bound(py),
            // fastavro reads any byte but 0 as True.
            Node::Boolean => PyBool::new(py, cursor.take(1)?[0] != 0)
                .to_owned()
                .into_any(),
            Node::Long => cursor.long()?.into_pyobject(py)?.into_any(),
            Node::Float => {
                let bytes: [u8; 4] = cursor.take(4)?.try_into()?;
                PyFloat::new(py, f64::from(f32::from_le_bytes(bytes))).into_any()
            }
            Node::Double => {
                let bytes: [u8; 8] = cursor.take(8)?.try_into()?;
                PyFloat::new(py, f64::from_le_bytes(bytes)).into_any()
            }
            Node::Bytes => {
                let length = cursor.length()?;
                PyBytes::new(py, cursor.take(length)?).into_any()
            }
            Node::Fixed(size) => PyBytes::new(py, cursor.take(*size)?).into_any(),
            Node::String => PyString::new(py, cursor.string()?).into_any(),
            Node::TimestampMillis => self.timestamp(py, cursor.long()?)?,
            Node::Enum(symbols) => {
                let index = cursor.index(symbols.len(), "enum")?;
                symbols[index].bind(py).clone().into_any()
            }
            Node::Union(branches) => {
                let index = cursor.index(branches.len(), "union")?;
                self.value(py, &branches[index], cursor)?
            }
            Node::Record(fields) => {
                let record = PyDict::new(py);
                for (name, field) in fields.iter() {
                    record.set_item(name.bind(py), self.value(py, field, cursor)?)?;
                }
                record.into_any()
            }
            Node::Array(items) => {
                let list = PyList::empty(py);
                cursor.each_item(|cursor| list.append(self.value(py, items, cursor)?))?;
                list.into_any()
            }
            Node::Map(values) => {
                let map = PyDict::new(py);
                cursor.each_item(|cursor| {
                    let key = PyString::new(py, cursor.string()?);
                    map.set_item(key, self.value(py, values, cursor)?)
                })?;
                map.into_any()
            }
        })
    }

    /// Milliseconds since the epoch as fastavro returns them: an aware UTC datetime
    /// (ValueError outside years 1 to 9999, where fastavro raises OverflowError).
    fn timestamp<'py>(&self, py: Python<'py>, millis: i64) -> PyResult<Bound<'py, PyAny>> {
        let days = millis.div_euclid(86_400_000);
        let in_day = millis.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        if !(1..=9999).contains(&year) {
            return Err(invalid(format!("timestamp {millis} ms is out of range")));
        }
        let args = (
            year,
            month,
            day,
            in_day / 3_600_000,
            in_day / 60_000 % 60,
            in_day / 1000 % 60,
            in_day % 1000 * 1000,
            self.utc.bind(py),
        );
        self.datetime.bind(py).call1(args)
    }
}

/// Writes values of a schema as Avro binary data (no framing), as fastavro's
/// `schemaless_writer` does, for the values it supports (see the module's documentation).
#[pyclass(frozen, module = "credstream_avro_native")]
struct Writer {
    root: Node,
    epoch: Py<PyAny>,
    millisecond: Py<PyAny>,
}

#[pymethods]
impl Writer {
    /// ``schema``: the schema's JSON as ``json.loads`` returns it. Raises ValueError for
    /// a schema this writer does not support.
    #[new]
    fn new(py: Python<'_>, schema: &Bound<'_, PyAny>) -> PyResult<Self> {
        let root = compile(py, schema)?;
        writable(&root)?;
        let datetime = py.import("datetime")?;
        let utc = datetime.getattr("timezone")?.getattr("utc")?;
        let epoch = datetime
            .getattr("datetime")?
            .call1((1970, 1, 1, 0, 0, 0, 0, utc))?;
        let millisecond = datetime.getattr("timedelta")?.call1((0, 0, 1000))?;
        Ok(Writer {
            root,
            epoch: epoch.unbind(),
            millisecond: millisecond.unbind(),
        })
    }

    /// ``prefix`` followed by ``value``'s Avro binary encoding; None for a value it leaves
    /// to fastavro.
    fn write<'py>(
        &self,
        py: Python<'py>,
        prefix: &[u8],
        value: &Bound<'py, PyAny>,
    ) -> Option<Bound<'py, PyBytes>> {
        let mut out = Vec::with_capacity(prefix.len() + 256);
        out.extend_from_slice(prefix);
        self.put(&self.root, value, &mut out)
            .then(|| PyBytes::new(py, &out))
    }
}

/// Refuses a schema with a node the writer does not write as fastavro does: a float (its
/// overflow rules), a union other than null and one type (fastavro picks among several by
/// its own rules).
fn writable(node: &Node) -> PyResult<()> {
    match node {
        Node::Float => Err(invalid("float is not supported".into())),
        Node::Union(branches) => {
            let others: Vec<&Node> = branches
                .iter()
                .filter(|branch| !matches!(branch, Node::Null))
                .collect();
            match (branches.len(), others.as_slice()) {
                (2, [Node::Union(_) | Node::Record(_) | Node::Array(_)]) | (2, []) => Err(invalid(
                    "a union of null and a record, array or union".into(),
                )),
                (2, [other]) => writable(other),
                _ => Err(invalid("a union other than null and one type".into())),
            }
        }
        Node::Array(items) | Node::Map(items) => writable(items),
        Node::Record(fields) => fields.iter().try_for_each(|(_, field)| writable(field)),
        _ => Ok(()),
    }
}

fn put_long(out: &mut Vec<u8>, value: i64) {
    let mut zigzag = ((value << 1) ^ (value >> 63)) as u64;
    while zigzag >= 0x80 {
        out.push((zigzag as u8 & 0x7f) | 0x80);
        zigzag >>= 7;
    }
    out.push(zigzag as u8);
}

fn put_string(out: &mut Vec<u8>, value: &Bound<'_, PyAny>) -> bool {
    let Ok(Ok(text)) = value.downcast::<PyString>().map(|text| text.to_str()) else {
        return false; // not a str, or not encodable (a lone surrogate)
    };
    put_long(out, text.len() as i64);
    out.extend_from_slice(text.as_bytes());
    true
}

/// An int, not a bool, within 64 bits.
fn long_of(value: &Bound<'_, PyAny>) -> Option<i64> {
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return None;
    }
    value.extract::<i64>().ok()
}

impl Writer {
    /// Appends ``value``'s encoding; false when fastavro is to write it.
    fn put(&self, node: &Node, value: &Bound<'_, PyAny>, out: &mut Vec<u8>) -> bool {
        match node {
            Node::Null => value.is_none(),
            Node::Boolean => match value.downcast_exact::<PyBool>() {
                Ok(flag) => {
                    out.push(u8::from(flag.is_true()));
                    true
                }
                Err(_) => false,
            },
            Node::Long => long_of(value).map(|long| put_long(out, long)).is_some(),
            Node::Double => {
                let double = if let Ok(float) = value.downcast_exact::<PyFloat>() {
                    float.value()
                } else if long_of(value).is_some() {
                    match value.extract::<f64>() {
                        Ok(double) => double, // converted as struct.pack converts it
                        Err(_) => return false,
                    }
                } else {
                    return false;
                };
                out.extend_from_slice(&double.to_le_bytes());
                true
            }
            Node::Float => false,
            Node::Bytes => match value.downcast_exact::<PyBytes>() {
                Ok(bytes) => {
                    let bytes = bytes.as_bytes();
                    put_long(out, bytes.len() as i64);
                    out.extend_from_slice(bytes);
                    true
                }
                Err(_) => false,
            },
            Node::Fixed(size) => match value.downcast_exact::<PyBytes>() {
                Ok(bytes) if bytes.as_bytes().len() == *size => {
                    out.extend_from_slice(bytes.as_bytes());
                    true
                }
                _ => false,
            },
            Node::String => put_string(out, value),
            Node::TimestampMillis => match self.millis(value) {
                Some(millis) => {
                    put_long(out, millis);
                    true
                }
                None => false,
            },
            Node::Enum(symbols) => {
                let Ok(Ok(text)) = value.downcast::<PyString>().map(|text| text.to_str()) else {
                    return false;
                };
                let found = symbols
                    .iter()
                    .position(|symbol| symbol.bind(value.py()).to_str().ok() == Some(text));
                match found {
                    Some(index) => {
                        put_long(out, index as i64);
                        true
                    }
                    None => false, // fastavro names the value that is not a symbol
                }
            }
            Node::Union(branches) => {
                // null and one type (see `writable`); a tuple is fastavro's (name, value).
                let Some(index) = branches
                    .iter()
                    .position(|branch| matches!(branch, Node::Null) == value.is_none())
                else {
                    return false;
                };
                if value.is_instance_of::<PyTuple>() {
                    return false;
                }
                put_long(out, index as i64);
                self.put(&branches[index], value, out)
            }
            Node::Record(fields) => {
                let record = value.downcast::<PyDict>().ok();
                fields.iter().all(|(name, field)| {
                    let name = name.bind(value.py());
                    let item = match record {
                        Some(record) => record.get_item(name).ok().flatten(),
                        None => value.getattr(name).ok(),
                    };
                    item.is_some_and(|item| self.put(field, &item, out))
                })
            }
            Node::Array(items) => {
                if let Ok(list) = value.downcast::<PyList>() {
                    self.put_items(items, list.len(), list.iter(), out)
                } else if let Ok(tuple) = value.downcast::<PyTuple>() {
                    self.put_items(items, tuple.len(), tuple.iter(), out)
                } else {
                    false
                }
            }
            Node::Map(values) => {
                let Ok(map) = value.downcast::<PyDict>() else {
                    return false;
                };
                if !map.is_empty() {
                    put_long(out, map.len() as i64);
                    let all = map
                        .iter()
                        .all(|(key, item)| put_string(out, &key) && self.put(values, &item, out));
                    if !all {
                        return false;
                    }
                }
                out.push(0);
                true
            }
        }
    }

    /// An array's items as fastavro writes them: one block (none when empty), then 0.
    fn put_items<'py>(
        &self,
        node: &Node,
        count: usize,
        mut items: impl Iterator<Item = Bound<'py, PyAny>>,
        out: &mut Vec<u8>,
    ) -> bool {
        if count > 0 {
            put_long(out, count as i64);
            if !items.all(|item| self.put(node, &item, out)) {
                return false;
            }
        }
        out.push(0);
        true
    }

    /// Milliseconds since the epoch, as fastavro computes them: an int as it is; an aware
    /// datetime's difference from the epoch, in whole milliseconds rounded down. None for
    /// anything else (a naive datetime: fastavro reads it in local time).
    fn millis(&self, value: &Bound<'_, PyAny>) -> Option<i64> {
        if let Some(long) = long_of(value) {
            return Some(long);
        }
        let py = value.py();
        let delta = value.sub(self.epoch.bind(py)).ok()?; // TypeError when naive
        delta
            .floor_div(self.millisecond.bind(py))
            .ok()?
            .extract::<i64>()
            .ok()
    }
}

/// (year, month, day) of a day count since 1970-01-01 in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[pymodule]
fn credstream_avro_native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Reader>()?;
    module.add_class::<Writer>()
}
