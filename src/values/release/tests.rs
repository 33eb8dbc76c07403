use super::*;
use base64::engine::general_purpose::STANDARD as B64;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::json;
use std::io::Write as _;

// ---- a small copy of the tests' Helm encoder (tests/e2e/support/helm.rs has the full one)

fn release_json(name: &str, revision: u32, status: &str, chart: &str, version: &str) -> Value {
    json!({
        "name": name,
        "namespace": "camunda",
        "version": revision,
        "info": {
            "first_deployed": "2026-08-20T10:00:00Z",
            "last_deployed": "2026-08-21T10:00:00Z",
            "deleted": "",
            "description": "Upgrade complete",
            "status": status,
        },
        "chart": {
            "metadata": {"apiVersion": "v2", "name": chart, "version": version, "appVersion": "8.7.x"},
            "lock": null,
            "templates": [],
            "values": {"identity": {"enabled": true, "externalDatabase": {"host": null}}},
            "schema": null,
            "files": [],
        },
        "config": {"identity": {"externalDatabase": {"host": "aurora.example"}}},
        "manifest": "---\n# Source: camunda-platform/templates/identity/deployment.yaml\n",
        "hooks": [],
    })
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// What Helm puts in `data.release` (before the API server's base64): base64 of gzip.
fn helm_encode(release: &Value) -> Vec<u8> {
    B64.encode(gzip(release.to_string().as_bytes()))
        .into_bytes()
}

fn meta(name: &str, revision: u32, status: &str, data: Vec<u8>) -> ReleaseSecretMeta {
    ReleaseSecretMeta {
        secret_name: format!("sh.helm.release.v1.{name}.v{revision}"),
        release_name: name.to_string(),
        revision,
        status: ReleaseStatus::parse(status),
        release_data: data,
    }
}

fn camunda(name: &str, revision: u32, status: &str) -> ReleaseSecretMeta {
    let data = helm_encode(&release_json(
        name,
        revision,
        status,
        CAMUNDA_CHART,
        "12.13.3",
    ));
    meta(name, revision, status, data)
}

fn corrupt(name: &str, revision: u32, status: &str) -> ReleaseSecretMeta {
    meta(name, revision, status, b"%%% not a release %%%".to_vec())
}

// ---- decoding -------------------------------------------------------------------------

#[test]
fn decodes_what_helm_writes() {
    let r = decode_release(&helm_encode(&release_json(
        "camunda",
        2,
        "deployed",
        CAMUNDA_CHART,
        "12.13.3",
    )))
    .unwrap();
    assert_eq!(r.name, "camunda");
    assert_eq!(r.namespace, "camunda");
    assert_eq!(r.revision, 2);
    assert_eq!(r.status, ReleaseStatus::Deployed);
    assert_eq!(
        r.chart,
        ChartMeta {
            name: "camunda-platform".into(),
            version: "12.13.3".into(),
            app_version: Some("8.7.x".into()),
        }
    );
    assert_eq!(
        r.user_values,
        json!({"identity": {"externalDatabase": {"host": "aurora.example"}}})
    );
    assert_eq!(
        r.chart_defaults,
        json!({"identity": {"enabled": true, "externalDatabase": {"host": null}}})
    );
    let values = r.values();
    assert_eq!(
        values.str_at(&["identity", "externalDatabase", "host"]),
        Some("aurora.example".into())
    );
    assert_eq!(values.bool_at(&["identity", "enabled"]), Some(true));
}

#[test]
fn accepts_every_layering() {
    let release = release_json("camunda", 1, "deployed", CAMUNDA_CHART, "13.12.7");
    let json = release.to_string().into_bytes();
    let gz = gzip(&json);
    let forms: Vec<(&str, Vec<u8>)> = vec![
        ("base64(gzip)", B64.encode(&gz).into_bytes()),
        ("base64(json)", B64.encode(&json).into_bytes()),
        ("gzip", gz.clone()),
        ("json", json.clone()),
        (
            "base64(base64(gzip))",
            B64.encode(B64.encode(&gz)).into_bytes(),
        ),
        (
            "base64(gzip) + newline",
            format!("{}\n", B64.encode(&gz)).into_bytes(),
        ),
        (
            "wrapped base64",
            B64.encode(&gz)
                .as_bytes()
                .chunks(76)
                .map(|c| String::from_utf8(c.to_vec()).unwrap())
                .collect::<Vec<_>>()
                .join("\n")
                .into_bytes(),
        ),
    ];
    for (label, data) in forms {
        let r = decode_release(&data).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(r.chart.version, "13.12.7", "{label}");
    }
}

#[test]
fn absent_or_null_values_are_empty_maps() {
    let mut release = release_json("camunda", 1, "deployed", CAMUNDA_CHART, "12.13.3");
    release.as_object_mut().unwrap().remove("config");
    release["chart"]["values"] = Value::Null;
    let r = decode_release(&helm_encode(&release)).unwrap();
    assert_eq!(r.user_values, json!({}));
    assert_eq!(r.chart_defaults, json!({}));

    release["config"] = Value::Null;
    release["chart"].as_object_mut().unwrap().remove("values");
    let r = decode_release(&helm_encode(&release)).unwrap();
    assert_eq!(r.user_values, json!({}));
    assert_eq!(r.chart_defaults, json!({}));
}

#[test]
fn optional_fields() {
    let mut release = release_json("camunda", 1, "deployed", CAMUNDA_CHART, "12.13.3");
    release["chart"]["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("appVersion");
    release.as_object_mut().unwrap().remove("namespace");
    let r = decode_release(&helm_encode(&release)).unwrap();
    assert_eq!(r.chart.app_version, None);
    assert_eq!(r.namespace, "");

    release["chart"]["metadata"]["appVersion"] = json!(8.7);
    let r = decode_release(&helm_encode(&release)).unwrap();
    assert_eq!(r.chart.app_version.as_deref(), Some("8.7"));
}

#[test]
fn bad_base64() {
    let e = decode_release(b"this is not base64!").unwrap_err();
    assert!(matches!(e, ReleaseError::BadBase64(_)), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("data.release is not valid base64: "),
        "{e}"
    );
}

#[test]
fn empty_data() {
    assert_eq!(
        decode_release(b"").unwrap_err(),
        ReleaseError::NotAReleaseSecret("data.release is empty".into())
    );
    assert_eq!(
        decode_release(b"  \n").unwrap_err(),
        ReleaseError::NotAReleaseSecret("data.release is empty".into())
    );
}

#[test]
fn truncated_gzip() {
    let gz = gzip(
        release_json("camunda", 1, "deployed", CAMUNDA_CHART, "1.0.0")
            .to_string()
            .as_bytes(),
    );
    for cut in [gz.len() / 2, gz.len() - 4, 11] {
        let e = decode_release(B64.encode(&gz[..cut]).as_bytes()).unwrap_err();
        assert!(matches!(e, ReleaseError::BadGzip(_)), "cut {cut}: {e:?}");
        assert!(
            e.to_string()
                .starts_with("data.release is not valid gzip: ")
        );
    }
    // A corrupted CRC is caught as well.
    let mut bad_crc = gz.clone();
    let n = bad_crc.len();
    bad_crc[n - 8] ^= 0xff;
    assert!(matches!(
        decode_release(B64.encode(&bad_crc).as_bytes()).unwrap_err(),
        ReleaseError::BadGzip(_)
    ));
}

#[test]
fn bad_json_reports_line_and_column() {
    let text = "{\n  \"name\": \"camunda\",\n  \"version\": ,\n}";
    let e = decode_release(B64.encode(gzip(text.as_bytes())).as_bytes()).unwrap_err();
    match &e {
        ReleaseError::BadJson {
            line,
            column,
            message,
        } => {
            assert_eq!((*line, *column), (3, 14));
            assert!(message.contains("line 3 column 14"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().starts_with("the release is not valid JSON: "));
}

#[test]
fn json_nested_too_deep_is_an_error_not_a_crash() {
    let text = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let e = decode_release(B64.encode(gzip(text.as_bytes())).as_bytes()).unwrap_err();
    assert!(matches!(e, ReleaseError::BadJson { .. }), "{e:?}");
}

#[test]
fn missing_fields_are_named() {
    type Mutation = fn(&mut Value);
    let cases: Vec<(&str, Mutation, &str)> = vec![
        (
            "name",
            |r| {
                r.as_object_mut().unwrap().remove("name");
            },
            "name",
        ),
        (
            "version",
            |r| {
                r.as_object_mut().unwrap().remove("version");
            },
            "version",
        ),
        (
            "info",
            |r| {
                r.as_object_mut().unwrap().remove("info");
            },
            "info",
        ),
        (
            "status",
            |r| {
                r["info"].as_object_mut().unwrap().remove("status");
            },
            "info.status",
        ),
        (
            "chart",
            |r| {
                r.as_object_mut().unwrap().remove("chart");
            },
            "chart",
        ),
        (
            "metadata",
            |r| {
                r["chart"].as_object_mut().unwrap().remove("metadata");
            },
            "chart.metadata",
        ),
        (
            "chart name",
            |r| {
                r["chart"]["metadata"]["name"] = json!("");
            },
            "chart.metadata.name",
        ),
        (
            "chart version",
            |r| {
                r["chart"]["metadata"]
                    .as_object_mut()
                    .unwrap()
                    .remove("version");
            },
            "chart.metadata.version",
        ),
    ];
    for (label, mutate, field) in cases {
        let mut release = release_json("camunda", 1, "deployed", CAMUNDA_CHART, "12.13.3");
        mutate(&mut release);
        let e = decode_release(&helm_encode(&release)).unwrap_err();
        assert_eq!(e, ReleaseError::MissingField(field), "{label}");
        assert_eq!(e.to_string(), format!("the release has no field {field}"));
    }
}

#[test]
fn fields_of_the_wrong_type() {
    let cases: Vec<(Value, &str)> = vec![
        (json!({"version": "2"}), "version"),
        (json!({"version": 0}), "version"),
        (json!({"version": -1}), "version"),
        (json!({"version": 1.5}), "version"),
        (json!({"version": 5_000_000_000_u64}), "version"),
        (json!({"config": ["a"]}), "config"),
        (json!({"config": "a: 1"}), "config"),
        (json!({"name": 7}), "name"),
        (json!({"namespace": 7}), "namespace"),
        (json!({"info": "deployed"}), "info"),
    ];
    for (patch, field) in cases {
        let mut release = release_json("camunda", 1, "deployed", CAMUNDA_CHART, "12.13.3");
        for (k, v) in patch.as_object().unwrap() {
            release[k] = v.clone();
        }
        match decode_release(&helm_encode(&release)).unwrap_err() {
            ReleaseError::BadField { field: f, .. } => assert_eq!(f, field, "{patch}"),
            other => panic!("{patch}: {other:?}"),
        }
    }
    let mut release = release_json("camunda", 1, "deployed", CAMUNDA_CHART, "12.13.3");
    release["chart"]["values"] = json!(42);
    assert_eq!(
        decode_release(&helm_encode(&release))
            .unwrap_err()
            .to_string(),
        "the release field chart.values is not a map of values"
    );
    assert_eq!(
        decode_release(&B64.encode(b"[1, 2]").into_bytes()).unwrap_err(),
        ReleaseError::BadField {
            field: "(top level)",
            expected: "a JSON object"
        }
    );
}

#[test]
fn gzip_bomb_is_refused_with_a_small_limit() {
    // 4 KiB of JSON whitespace, then a valid release: fine with room, refused without.
    let mut text = " ".repeat(4096).into_bytes();
    text.extend(
        release_json("camunda", 1, "deployed", CAMUNDA_CHART, "1.0.0")
            .to_string()
            .bytes(),
    );
    let data = B64.encode(gzip(&text)).into_bytes();
    assert!(decode_release_limited(&data, 1024 * 1024).is_ok());
    assert_eq!(
        decode_release_limited(&data, 4096).unwrap_err(),
        ReleaseError::TooLarge { limit: 4096 }
    );
    // Input already larger than the limit.
    assert_eq!(
        decode_release_limited(&[b'A'; 100], 99).unwrap_err(),
        ReleaseError::TooLarge { limit: 99 }
    );
}

#[test]
fn gzip_bomb_is_refused_at_the_real_limit() {
    // 65 concatenated gzip members of 1 MiB of spaces each: about 70 KiB that would
    // decompress to 65 MiB. Go's gzip reader (Helm's) reads every member, so do we.
    let member = gzip(&vec![b' '; 1024 * 1024]);
    let bomb: Vec<u8> = member
        .iter()
        .copied()
        .cycle()
        .take(member.len() * 65)
        .collect();
    assert!(bomb.len() < 200 * 1024, "{}", bomb.len());
    let e = decode_release(B64.encode(&bomb).as_bytes()).unwrap_err();
    assert_eq!(
        e,
        ReleaseError::TooLarge {
            limit: MAX_RELEASE_JSON_BYTES
        }
    );
    assert_eq!(
        e.to_string(),
        "the release is larger than 64 MiB once decoded; refused (corrupt, or a gzip bomb)"
    );
}

#[test]
fn garbage_never_panics() {
    // A deterministic spread of byte soups, some starting like gzip or JSON or base64.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..400 {
        let len = (next() % 300) as usize;
        let mut data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        match i % 4 {
            0 => data.splice(0..0, [0x1f, 0x8b, 0x08]).for_each(drop),
            1 => data.insert(0, b'{'),
            2 => data = B64.encode(&data).into_bytes(),
            _ => {}
        }
        assert!(decode_release(&data).is_err(), "case {i} decoded");
    }
}

// ---- secrets as the API returns them ---------------------------------------------------

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn meta_from_labels_and_from_the_secret_name() {
    let m = ReleaseSecretMeta::from_parts(
        "sh.helm.release.v1.camunda.v7",
        &labels(&[
            ("owner", "helm"),
            ("name", "camunda"),
            ("status", "pending-upgrade"),
            ("version", "7"),
        ]),
        b"x".to_vec(),
    )
    .unwrap();
    assert_eq!(m.release_name, "camunda");
    assert_eq!(m.revision, 7);
    assert_eq!(m.status, ReleaseStatus::PendingUpgrade);

    let m = ReleaseSecretMeta::from_parts(
        "sh.helm.release.v1.my.release.v12",
        &labels(&[("owner", "helm")]),
        vec![],
    )
    .unwrap();
    assert_eq!((m.release_name.as_str(), m.revision), ("my.release", 12));
    assert_eq!(m.status, ReleaseStatus::Unknown);

    let e = ReleaseSecretMeta::from_parts(
        "sh.helm.release.v1.camunda.v1",
        &labels(&[("name", "camunda"), ("version", "one")]),
        vec![],
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "not a Helm release Secret: label version=\"one\" is not a revision number"
    );
    assert!(ReleaseSecretMeta::from_parts("my-secret", &labels(&[]), vec![]).is_err());
    assert!(
        ReleaseSecretMeta::from_parts("sh.helm.release.v1.x.v0", &labels(&[]), vec![]).is_err()
    );
}

#[test]
fn meta_from_a_kubernetes_secret() {
    let encoded = helm_encode(&release_json(
        "camunda",
        2,
        "deployed",
        CAMUNDA_CHART,
        "12.13.3",
    ));
    let secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "sh.helm.release.v1.camunda.v2",
            "namespace": "camunda",
            "labels": {"owner": "helm", "name": "camunda", "status": "deployed", "version": "2"},
        },
        "type": "helm.sh/release.v1",
        // The API server's base64 over Helm's.
        "data": {"release": B64.encode(&encoded)},
    }))
    .unwrap();
    let m = ReleaseSecretMeta::from_secret(&secret).unwrap();
    assert_eq!(m.release_data, encoded);
    assert_eq!(m.decode().unwrap().revision, 2);

    let mut opaque = secret.clone();
    opaque.type_ = Some("Opaque".into());
    assert_eq!(
        ReleaseSecretMeta::from_secret(&opaque)
            .unwrap_err()
            .to_string(),
        "not a Helm release Secret: type is Opaque, not helm.sh/release.v1"
    );
    let mut no_data = secret;
    no_data.data = None;
    assert_eq!(
        ReleaseSecretMeta::from_secret(&no_data).unwrap_err(),
        ReleaseError::NotAReleaseSecret("no data.release".into())
    );
}

// ---- selection ------------------------------------------------------------------------

#[test]
fn newest_deployed_revision_wins_over_superseded_ones() {
    let candidates = vec![
        camunda("camunda", 1, "superseded"),
        camunda("camunda", 3, "deployed"),
        camunda("camunda", 2, "superseded"),
    ];
    let s = select_release(&candidates, None).unwrap();
    assert_eq!(s.secret_name, "sh.helm.release.v1.camunda.v3");
    assert_eq!(s.release.revision, 3);
    assert!(s.notes.is_empty(), "{:?}", s.notes);
}

#[test]
fn only_the_chosen_revision_is_decoded() {
    // Corrupt superseded revisions do not matter: they are never decoded.
    let candidates = vec![
        corrupt("camunda", 1, "superseded"),
        camunda("camunda", 2, "deployed"),
        corrupt("camunda", 3, "superseded"),
    ];
    let s = select_release(&candidates, None).unwrap();
    assert_eq!(s.release.revision, 2);
    assert!(s.notes.is_empty());
    // With --release, other releases are not decoded either.
    let candidates = vec![
        camunda("camunda", 1, "deployed"),
        corrupt("other", 1, "deployed"),
    ];
    let s = select_release(&candidates, Some("camunda")).unwrap();
    assert!(s.notes.is_empty(), "{:?}", s.notes);
}

#[test]
fn pending_upgrade_and_failed_newer_revisions_are_noted() {
    let candidates = vec![
        camunda("camunda", 1, "superseded"),
        camunda("camunda", 2, "deployed"),
        camunda("camunda", 3, "failed"),
        camunda("camunda", 4, "pending-upgrade"),
    ];
    let s = select_release(&candidates, None).unwrap();
    assert_eq!(s.release.revision, 2);
    assert_eq!(
        s.notes,
        vec![
            "release camunda: revision 3 is failed (it failed); checking the deployed revision 2",
            "release camunda: revision 4 is pending-upgrade (an upgrade is running, or was interrupted and left the release locked); checking the deployed revision 2",
        ]
    );
}

#[test]
fn other_charts_are_ignored() {
    let nginx = meta(
        "ingress",
        1,
        "deployed",
        helm_encode(&release_json(
            "ingress",
            1,
            "deployed",
            "ingress-nginx",
            "4.11.0",
        )),
    );
    let candidates = vec![nginx.clone(), camunda("camunda", 1, "deployed")];
    let s = select_release(&candidates, None).unwrap();
    assert_eq!(s.release.name, "camunda");

    let e = select_release(&[nginx], None).unwrap_err();
    assert_eq!(
        e,
        SelectError::NoCamundaRelease {
            wanted: None,
            found: vec!["release ingress is chart ingress-nginx 4.11.0".into()],
        }
    );
    assert_eq!(
        e.to_string(),
        "no deployed Helm release of chart camunda-platform in the namespace (found: release ingress is chart ingress-nginx 4.11.0)"
    );
    assert_eq!(e.hint(), Some(NO_RELEASE_HINT));
}

#[test]
fn no_release_at_all() {
    let e = select_release(&[], None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no deployed Helm release of chart camunda-platform in the namespace"
    );
    assert_eq!(e.hint(), Some(NO_RELEASE_HINT));
}

#[test]
fn several_camunda_releases_ask_for_release() {
    let mut second = camunda("c8-b", 1, "deployed");
    second.release_data = helm_encode(&release_json(
        "c8-b",
        1,
        "deployed",
        CAMUNDA_CHART,
        "13.12.7",
    ));
    let candidates = vec![
        camunda("c8-a", 1, "superseded"),
        camunda("c8-a", 2, "deployed"),
        second,
    ];
    let e = select_release(&candidates, None).unwrap_err();
    assert_eq!(
        e,
        SelectError::Several {
            releases: vec![
                ReleaseSummary {
                    name: "c8-a".into(),
                    revision: 2,
                    chart_version: "12.13.3".into()
                },
                ReleaseSummary {
                    name: "c8-b".into(),
                    revision: 1,
                    chart_version: "13.12.7".into()
                },
            ]
        }
    );
    assert_eq!(
        e.to_string(),
        "several releases of chart camunda-platform are deployed in the namespace: c8-a (chart 12.13.3, revision 2), c8-b (chart 13.12.7, revision 1)"
    );
    assert_eq!(e.hint(), Some("choose one with --release NAME"));

    let s = select_release(&candidates, Some("c8-b")).unwrap();
    assert_eq!(s.release.chart.version, "13.12.7");
    let e = select_release(&candidates, Some("c8-c")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no deployed Helm release \"c8-c\" of chart camunda-platform in the namespace"
    );
}

#[test]
fn a_release_without_deployed_revision() {
    let candidates = vec![camunda("camunda", 1, "failed")];
    let e = select_release(&candidates, None).unwrap_err();
    assert_eq!(
        e,
        SelectError::NoCamundaRelease {
            wanted: None,
            found: vec![
                "release camunda has no deployed revision, newest is revision 1 (failed)".into()
            ],
        }
    );
    // Beside a deployed one it becomes a note.
    let candidates = vec![
        camunda("old", 1, "uninstalled"),
        camunda("camunda", 1, "deployed"),
    ];
    let s = select_release(&candidates, None).unwrap();
    assert_eq!(s.release.name, "camunda");
    assert_eq!(
        s.notes,
        vec!["release old has no deployed revision, newest is revision 1 (uninstalled)"]
    );
}

#[test]
fn unreadable_release_is_reported_with_its_secret() {
    let e = select_release(&[corrupt("camunda", 2, "deployed")], None).unwrap_err();
    match &e {
        SelectError::Unreadable { failures } => {
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0].0, "sh.helm.release.v1.camunda.v2");
            assert!(matches!(failures[0].1, ReleaseError::BadBase64(_)));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string().starts_with(
            "Secret sh.helm.release.v1.camunda.v2: data.release is not valid base64: "
        )
    );
    assert_eq!(e.hint(), None);

    // Beside a readable camunda release, it is skipped with a note.
    let s = select_release(
        &[
            corrupt("broken", 1, "deployed"),
            camunda("camunda", 1, "deployed"),
        ],
        None,
    )
    .unwrap();
    assert_eq!(s.release.name, "camunda");
    assert_eq!(s.notes.len(), 1);
    assert!(s.notes[0].starts_with(
        "Secret sh.helm.release.v1.broken.v1 skipped: data.release is not valid base64"
    ));
}

#[test]
fn status_round_trips() {
    for s in [
        "deployed",
        "superseded",
        "failed",
        "pending-install",
        "pending-upgrade",
        "pending-rollback",
        "uninstalling",
        "uninstalled",
        "unknown",
        "something-new",
    ] {
        assert_eq!(ReleaseStatus::parse(s).as_str(), s);
    }
    assert_eq!(ReleaseStatus::parse(""), ReleaseStatus::Unknown);
}
