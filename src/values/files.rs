//! `--values FILE` (repeatable): values files read and merged the way `helm -f a -f b`
//! does, for installs that have no Helm release (`helm template`, Argo CD).

use serde_json::{Map, Value};
use std::fmt;
use std::path::{Path, PathBuf};

/// Values files larger than this are refused: real ones are kilobytes.
pub const MAX_VALUES_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A values file that could not be used.
#[derive(Debug)]
pub struct ValuesFileError {
    pub file: PathBuf,
    pub problem: ValuesFileProblem,
}

/// What was wrong with a values file.
#[derive(Debug)]
pub enum ValuesFileProblem {
    /// The file could not be read.
    Read(std::io::Error),
    /// The file is larger than [`MAX_VALUES_FILE_BYTES`].
    TooLarge { bytes: u64 },
    /// The file is not UTF-8 text.
    NotUtf8,
    /// The YAML parser refused it; line and column are 1-based when it gave them.
    Yaml {
        line: Option<u64>,
        column: Option<u64>,
        message: String,
    },
    /// The top level is a list or a scalar; Helm needs a map.
    NotAMap { found: &'static str },
}

impl fmt::Display for ValuesFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match &self.problem {
            ValuesFileProblem::Read(e) => write!(f, "values file {file}: cannot read it: {e}"),
            ValuesFileProblem::TooLarge { bytes } => write!(
                f,
                "values file {file}: {bytes} bytes is more than the {MAX_VALUES_FILE_BYTES} accepted"
            ),
            ValuesFileProblem::NotUtf8 => write!(f, "values file {file}: not UTF-8 text"),
            ValuesFileProblem::Yaml {
                line: Some(line),
                column: Some(column),
                message,
            } => write!(
                f,
                "values file {file}: line {line}, column {column}: {message}"
            ),
            ValuesFileProblem::Yaml {
                line: Some(line),
                column: None,
                message,
            } => write!(f, "values file {file}: line {line}: {message}"),
            ValuesFileProblem::Yaml { message, .. } => {
                write!(f, "values file {file}: {message}")
            }
            ValuesFileProblem::NotAMap { found } => write!(
                f,
                "values file {file}: the top level is {found}, but Helm values must be a map"
            ),
        }
    }
}

impl std::error::Error for ValuesFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            ValuesFileProblem::Read(e) => Some(e),
            _ => None,
        }
    }
}

/// Parse the text of a values file into a map, like Helm's `chartutil.ReadValues`:
/// anchors, aliases and `<<` merge keys are resolved; YAML 1.1 booleans (`yes`, `on`)
/// count as booleans and a repeated key keeps its last value, as with Helm's YAML
/// library; an empty file (or one with only comments or `null`) is `{}`; when a file
/// holds several documents the first non-empty one is used (Helm reads only the first).
/// The error carries no file name; [`read_values_file`] adds it.
pub fn parse_values_yaml(text: &str) -> Result<Value, ValuesFileProblem> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
    };
    let documents: Vec<Value> =
        serde_saphyr::from_multiple_with_options(text, options).map_err(|e| {
            let location = e.location();
            let line = location.map(|l| l.line()).filter(|&l| l > 0);
            let column = location.map(|l| l.column()).filter(|&c| c > 0);
            let mut message = one_line(&e.without_snippet().to_string());
            // The parser repeats the position at the end; the caller prints it first.
            if let (Some(l), Some(c)) = (line, column) {
                let suffix = format!(" at line {l}, column {c}");
                if let Some(stripped) = message.strip_suffix(&suffix) {
                    message = stripped.to_string();
                }
            }
            ValuesFileProblem::Yaml {
                line,
                column,
                message,
            }
        })?;
    match documents.into_iter().next() {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(map @ Value::Object(_)) => Ok(map),
        Some(Value::Array(_)) => Err(ValuesFileProblem::NotAMap { found: "a list" }),
        Some(Value::String(_)) => Err(ValuesFileProblem::NotAMap { found: "a string" }),
        Some(Value::Number(_)) => Err(ValuesFileProblem::NotAMap { found: "a number" }),
        Some(Value::Bool(_)) => Err(ValuesFileProblem::NotAMap { found: "a boolean" }),
    }
}

/// Read one values file (see [`parse_values_yaml`] for the rules).
pub fn read_values_file(path: &Path) -> Result<Value, ValuesFileError> {
    let fail = |problem| ValuesFileError {
        file: path.to_path_buf(),
        problem,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| fail(ValuesFileProblem::Read(e)))?
        .len();
    if size > MAX_VALUES_FILE_BYTES {
        return Err(fail(ValuesFileProblem::TooLarge { bytes: size }));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(ValuesFileProblem::Read(e)))?;
    let text = String::from_utf8(bytes).map_err(|_| fail(ValuesFileProblem::NotUtf8))?;
    parse_values_yaml(&text).map_err(fail)
}

/// Read several values files and merge them, later files winning (see
/// [`merge_values_layers`]). No file at all gives `{}`.
pub fn read_values_files(paths: &[PathBuf]) -> Result<Value, ValuesFileError> {
    let layers = paths
        .iter()
        .map(|p| read_values_file(p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(merge_values_layers(layers))
}

/// Merge values layers like `helm -f a -f b` (Helm's `mergeMaps`): a later map merges
/// deeply into an earlier map; anything else in a later layer (scalar, list, map over a
/// scalar, and `null`) replaces the earlier value. A `null` is kept, so that it still
/// deletes the chart default when [`super::Values::new`] coalesces.
pub fn merge_values_layers(layers: impl IntoIterator<Item = Value>) -> Value {
    let mut merged = Map::new();
    for layer in layers {
        if let Value::Object(map) = layer {
            merge_into(&mut merged, map);
        }
    }
    Value::Object(merged)
}

fn merge_into(base: &mut Map<String, Value>, layer: Map<String, Value>) {
    for (key, value) in layer {
        match (base.get_mut(&key), value) {
            (Some(Value::Object(earlier)), Value::Object(later)) => merge_into(earlier, later),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Value {
        parse_values_yaml(text).unwrap()
    }

    #[test]
    fn anchors_aliases_and_merge_keys_are_resolved() {
        let v = parse(
            "base: &db\n  host: aurora.example\n  port: 5432\nidentity:\n  externalDatabase: *db\nwebModeler:\n  db:\n    <<: *db\n    port: 5433\n",
        );
        assert_eq!(
            v,
            json!({
                "base": {"host": "aurora.example", "port": 5432},
                "identity": {"externalDatabase": {"host": "aurora.example", "port": 5432}},
                "webModeler": {"db": {"host": "aurora.example", "port": 5433}},
            })
        );
    }

    #[test]
    fn empty_comment_only_and_null_files_are_empty_maps() {
        for text in ["", "\n\n", "# only a comment\n", "---\n", "~\n", "null\n"] {
            assert_eq!(parse(text), json!({}), "for {text:?}");
        }
    }

    #[test]
    fn top_level_must_be_a_map() {
        for (text, found) in [
            ("- a\n- b\n", "a list"),
            ("just text\n", "a string"),
            ("42\n", "a number"),
            ("true\n", "a boolean"),
        ] {
            match parse_values_yaml(text) {
                Err(ValuesFileProblem::NotAMap { found: f }) => assert_eq!(f, found),
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn scalars_keep_helm_types() {
        let v = parse("a: 5432\nb: \"5432\"\nc: yes\nd: off\ne: ~\nf: 1.5\ng: 'true'\nh: \"\"\n");
        assert_eq!(
            v,
            json!({"a": 5432, "b": "5432", "c": true, "d": false, "e": null, "f": 1.5, "g": "true", "h": ""})
        );
    }

    #[test]
    fn a_repeated_key_keeps_the_last_value() {
        assert_eq!(parse("a: 1\na: 2\n"), json!({"a": 2}));
    }

    #[test]
    fn first_document_is_used() {
        assert_eq!(parse("a: 1\n---\nb: 2\n"), json!({"a": 1}));
    }

    #[test]
    fn syntax_error_gives_line_and_column() {
        let problem = parse_values_yaml("global:\n  opensearch:\n    enabled: true\n   bad: [\n")
            .unwrap_err();
        match problem {
            ValuesFileProblem::Yaml {
                line,
                column,
                message,
            } => {
                assert_eq!((line, column), (Some(4), Some(4)));
                assert_eq!(
                    message,
                    "while parsing a block mapping, did not find expected key"
                );
            }
            other => panic!("{other:?}"),
        }
        match parse_values_yaml("a: *nope\n").unwrap_err() {
            ValuesFileProblem::Yaml {
                line,
                column,
                message,
            } => {
                assert_eq!((line, column), (Some(1), Some(4)));
                assert_eq!(message, "alias references unknown anchor");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn yaml_1_1_booleans_and_odd_keys_as_helm_3_reads_them() {
        // Helm 3's YAML library is YAML 1.1: `y`, `on` are booleans; keys become strings.
        assert_eq!(
            parse("1: x\ntrue: y\nflag: on\n"),
            json!({"1": "x", "true": true, "flag": true})
        );
    }

    #[test]
    fn file_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.yaml");
        let e = read_values_file(&missing).unwrap_err();
        assert!(matches!(e.problem, ValuesFileProblem::Read(_)));
        assert!(e.to_string().starts_with(&format!(
            "values file {}: cannot read it: ",
            missing.display()
        )));

        let bad = dir.path().join("bad.yaml");
        std::fs::write(&bad, "a: [1, 2\nb: 3\n").unwrap();
        let e = read_values_file(&bad).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "values file {}: line 2, column 2: illegal placement of ':' indicator",
                bad.display()
            )
        );

        let list = dir.path().join("list.yaml");
        std::fs::write(&list, "- a\n").unwrap();
        assert_eq!(
            read_values_file(&list).unwrap_err().to_string(),
            format!(
                "values file {}: the top level is a list, but Helm values must be a map",
                list.display()
            )
        );

        let binary = dir.path().join("bin.yaml");
        std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x61]).unwrap();
        assert!(matches!(
            read_values_file(&binary).unwrap_err().problem,
            ValuesFileProblem::NotUtf8
        ));
    }

    #[test]
    fn several_files_merge_like_helm() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.yaml");
        let b = dir.path().join("b.yaml");
        std::fs::write(
            &a,
            "identity:\n  enabled: true\n  env:\n    - name: A\n      value: a\n  externalDatabase:\n    host: old\n    port: 5432\nglobal:\n  opensearch: {enabled: true}\nscalar: 1\n",
        )
        .unwrap();
        std::fs::write(
            &b,
            "identity:\n  env:\n    - name: B\n      value: b\n  externalDatabase:\n    host: new\n    port: null\nglobal:\n  opensearch: off\nscalar:\n  now: a map\n",
        )
        .unwrap();
        let merged = read_values_files(&[a, b]).unwrap();
        assert_eq!(
            merged,
            json!({
                "identity": {
                    "enabled": true,
                    "env": [{"name": "B", "value": "b"}],
                    "externalDatabase": {"host": "new", "port": null},
                },
                "global": {"opensearch": false},
                "scalar": {"now": "a map"},
            })
        );
    }

    #[test]
    fn no_files_is_an_empty_map() {
        assert_eq!(read_values_files(&[]).unwrap(), json!({}));
    }

    #[test]
    fn a_null_from_a_later_file_still_deletes_the_chart_default() {
        let user = merge_values_layers([json!({"a": {"b": 1, "c": 2}}), json!({"a": {"b": null}})]);
        let values = super::super::Values::new(user, json!({"a": {"b": 0, "c": 0, "d": 0}}));
        assert_eq!(values.coalesced(), &json!({"a": {"c": 2, "d": 0}}));
    }
}
