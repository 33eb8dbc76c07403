use super::*;
use serde_json::json;

fn values(user: Value, defaults: Value) -> Values {
    Values::new(user, defaults)
}

// ---- coalescing: one test per Helm rule -----------------------------------------------

#[test]
fn maps_merge_deeply() {
    let v = values(
        json!({"global": {"opensearch": {"url": {"host": "os.example"}}}}),
        json!({"global": {"opensearch": {"enabled": false, "url": {"host": "", "port": 443}}}}),
    );
    assert_eq!(
        v.coalesced(),
        &json!({"global": {"opensearch": {"enabled": false, "url": {"host": "os.example", "port": 443}}}})
    );
}

#[test]
fn user_scalar_replaces_default() {
    let v = values(json!({"a": {"b": 0}}), json!({"a": {"b": 5, "c": 1}}));
    assert_eq!(v.coalesced(), &json!({"a": {"b": 0, "c": 1}}));
}

#[test]
fn user_list_replaces_default_list_without_merging() {
    let v = values(
        json!({"identityKeycloak": {"extraEnvVars": [{"name": "KEYCLOAK_JDBC_DRIVER", "value": "aws-wrapper:postgresql"}]}}),
        json!({"identityKeycloak": {"extraEnvVars": [{"name": "KEYCLOAK_PROXY_ADDRESS_FORWARDING", "value": "x"}, {"name": "B"}]}}),
    );
    assert_eq!(
        v.get(&["identityKeycloak", "extraEnvVars"]),
        Some(&json!([{"name": "KEYCLOAK_JDBC_DRIVER", "value": "aws-wrapper:postgresql"}]))
    );
    // An empty user list also replaces.
    let v = values(json!({"l": []}), json!({"l": [1, 2]}));
    assert_eq!(v.get(&["l"]), Some(&json!([])));
}

#[test]
fn user_null_deletes_a_default_key_at_any_depth() {
    let v = values(
        json!({"top": null, "a": {"b": null, "c": {"d": null}}}),
        json!({"top": 1, "a": {"b": {"deep": 1}, "c": {"d": "x", "e": "y"}, "keep": 2}}),
    );
    assert_eq!(v.coalesced(), &json!({"a": {"c": {"e": "y"}, "keep": 2}}));
    assert_eq!(v.get(&["top"]), None);
    assert!(v.user_has(&["top"]));
    assert!(v.defaults_has(&["top"]));
}

#[test]
fn user_null_for_a_key_the_defaults_lack_is_dropped_too() {
    let v = values(
        json!({"new": null, "a": {"new": null}, "fresh": {"x": null, "y": 1}}),
        json!({"a": {"old": 1}}),
    );
    assert_eq!(v.coalesced(), &json!({"a": {"old": 1}, "fresh": {"y": 1}}));
}

#[test]
fn user_map_over_default_scalar_wins() {
    let v = values(
        json!({"existingSecret": {"name": "s"}}),
        json!({"existingSecret": "literal"}),
    );
    assert_eq!(v.get(&["existingSecret"]), Some(&json!({"name": "s"})));
    // Over a default null too (the 8.7 chart has many `key: null` defaults).
    let v = values(json!({"host": {"a": 1, "b": null}}), json!({"host": null}));
    assert_eq!(v.get(&["host"]), Some(&json!({"a": 1})));
}

#[test]
fn user_scalar_over_default_map_wins() {
    let v = values(
        json!({"url": "https://x"}),
        json!({"url": {"host": "", "port": 443}}),
    );
    assert_eq!(v.get(&["url"]), Some(&json!("https://x")));
    let v = values(json!({"env": [1]}), json!({"env": {"a": 1}}));
    assert_eq!(v.get(&["env"]), Some(&json!([1])));
}

#[test]
fn default_nulls_stay_and_count_as_present() {
    let v = values(
        json!({}),
        json!({"identity": {"externalDatabase": {"host": null}}}),
    );
    assert_eq!(
        v.get(&["identity", "externalDatabase", "host"]),
        Some(&Value::Null)
    );
    assert!(v.defaults_has(&["identity", "externalDatabase", "host"]));
    assert!(!v.user_has(&["identity", "externalDatabase", "host"]));
    assert_eq!(v.str_at(&["identity", "externalDatabase", "host"]), None);
}

#[test]
fn user_only_keys_are_kept() {
    let v = values(json!({"extra": {"a": [1, null]}}), json!({"other": 1}));
    assert_eq!(
        v.coalesced(),
        &json!({"extra": {"a": [1, null]}, "other": 1})
    );
}

#[test]
fn a_top_level_that_is_not_a_map_counts_as_empty() {
    let v = values(Value::Null, json!({"a": 1}));
    assert_eq!(v.coalesced(), &json!({"a": 1}));
    let v = values(json!({"a": 2}), json!(["not", "a", "map"]));
    assert_eq!(v.coalesced(), &json!({"a": 2}));
    assert_eq!(v.user(), &json!({"a": 2}));
}

#[test]
fn inputs_are_kept_as_given() {
    let user = json!({"a": null});
    let defaults = json!({"a": 1});
    let v = values(user.clone(), defaults.clone());
    assert_eq!(v.user(), &user);
    assert_eq!(v.defaults(), &defaults);
}

// ---- lookups --------------------------------------------------------------------------

fn sample() -> Values {
    values(
        json!({
            "identity": {
                "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/R"}},
                "externalDatabase": {"port": "5432", "host": "  "},
                "env": [
                    {"name": "SPRING_DATASOURCE_URL", "value": "jdbc:aws-wrapper:postgresql://h:5432/db?wrapperPlugins=iam"},
                    {"name": "SPRING_DATASOURCE_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
                    {"name": "DUP", "value": "first"},
                    {"name": "EMPTY"},
                    {"name": "NUM", "value": 5432},
                    "not a map",
                    {"name": "DUP", "value": "second"},
                ],
            },
            "flags": {
                "t": true, "f": false, "st": "true", "sf": "false", "sF": "False",
                "yes": "yes", "one": 1, "zero": 0, "zf": 0.0, "empty": "", "n": null,
                "list": [], "fullList": [0], "map": {}, "fullMap": {"a": 1},
            },
            "ports": {
                "ok": 5432, "okStr": "443", "okSpaced": " 8080 ", "zero": 0, "big": 65536,
                "neg": -1, "frac": 5432.5, "whole": 5432.0, "text": "http", "blank": "",
                "n": null, "b": true, "l": [5432], "m": {"p": 1}, "huge": "99999999999999999999999",
                "max": 65535, "plus": "+80",
            },
        }),
        json!({"identity": {"enabled": false, "externalDatabase": {"host": null, "port": 5432, "username": ""}}}),
    )
}

#[test]
fn get_handles_keys_with_dots_and_dotted_paths() {
    let v = sample();
    assert_eq!(
        v.str_at(&[
            "identity",
            "serviceAccount",
            "annotations",
            "eks.amazonaws.com/role-arn"
        ]),
        Some("arn:aws:iam::123456789012:role/R".to_string())
    );
    assert_eq!(v.get_dotted("identity.enabled"), Some(&json!(false)));
    assert_eq!(
        v.get_dotted("identity.externalDatabase.port"),
        Some(&json!("5432"))
    );
    assert_eq!(v.get_dotted("identity.nope.deeper"), None);
    // A scalar in the middle of the path is not a map.
    assert_eq!(v.get_dotted("identity.enabled.more"), None);
    assert_eq!(v.get(&[]), Some(v.coalesced()));
}

#[test]
fn str_at_rules() {
    let v = sample();
    assert_eq!(
        v.str_at(&["identity", "externalDatabase", "port"]),
        Some("5432".into())
    );
    assert_eq!(v.str_at(&["ports", "ok"]), Some("5432".into()));
    assert_eq!(v.str_at(&["ports", "frac"]), Some("5432.5".into()));
    assert_eq!(v.str_at(&["ports", "okSpaced"]), Some(" 8080 ".into()));
    // Blank, empty, null, bool, list, map, absent: not a string.
    assert_eq!(v.str_at(&["identity", "externalDatabase", "host"]), None);
    assert_eq!(
        v.str_at(&["identity", "externalDatabase", "username"]),
        None
    );
    assert_eq!(v.str_at(&["flags", "n"]), None);
    assert_eq!(v.str_at(&["flags", "t"]), None);
    assert_eq!(v.str_at(&["flags", "fullList"]), None);
    assert_eq!(v.str_at(&["flags", "fullMap"]), None);
    assert_eq!(v.str_at(&["flags", "absent"]), None);
}

#[test]
fn bool_at_rules() {
    let v = sample();
    let b = |k: &str| v.bool_at(&["flags", k]);
    assert_eq!(b("t"), Some(true));
    assert_eq!(b("f"), Some(false));
    assert_eq!(b("st"), Some(true));
    assert_eq!(b("sf"), Some(false));
    // Only the exact lower-case strings.
    assert_eq!(b("sF"), None);
    assert_eq!(b("yes"), None);
    assert_eq!(b("one"), None);
    assert_eq!(b("zero"), None);
    assert_eq!(b("empty"), None);
    assert_eq!(b("n"), None);
    assert_eq!(b("map"), None);
    assert_eq!(b("absent"), None);
}

#[test]
fn truthy_at_is_go_template_truth() {
    let v = sample();
    let t = |k: &str| v.truthy_at(&["flags", k]);
    assert!(t("t"));
    assert!(!t("f"));
    assert!(t("st"));
    // The trap: the string "false" is a non-empty string, so `if` takes it as true.
    assert!(t("sf"));
    assert!(t("one"));
    assert!(!t("zero"));
    assert!(!t("zf"));
    assert!(!t("empty"));
    assert!(!t("n"));
    assert!(!t("absent"));
    assert!(!t("list"));
    assert!(t("fullList"));
    assert!(!t("map"));
    assert!(t("fullMap"));
}

#[test]
fn u16_at_accepts_ports_and_explains_the_rest() {
    let v = sample();
    let p = |k: &str| v.u16_at(&["ports", k]);
    assert_eq!(p("ok"), Ok(Some(5432)));
    assert_eq!(p("okStr"), Ok(Some(443)));
    assert_eq!(p("okSpaced"), Ok(Some(8080)));
    assert_eq!(p("whole"), Ok(Some(5432)));
    assert_eq!(p("max"), Ok(Some(65535)));
    assert_eq!(p("blank"), Ok(None));
    assert_eq!(p("n"), Ok(None));
    assert_eq!(p("absent"), Ok(None));
    let err = |k: &str| p(k).unwrap_err().to_string();
    assert_eq!(
        err("zero"),
        "ports.zero: port 0 is not a usable port (1-65535)"
    );
    assert_eq!(
        err("big"),
        "ports.big: 65536 is out of the port range (1-65535)"
    );
    assert_eq!(
        err("neg"),
        "ports.neg: -1 is out of the port range (1-65535)"
    );
    assert_eq!(err("frac"), "ports.frac: 5432.5 is not a whole port number");
    assert_eq!(err("text"), "ports.text: \"http\" is not a port number");
    assert_eq!(err("plus"), "ports.plus: \"+80\" is not a port number");
    assert_eq!(err("b"), "ports.b: true is not a port number");
    assert_eq!(err("l"), "ports.l: a list is not a port number");
    assert_eq!(err("m"), "ports.m: a map is not a port number");
    assert!(err("huge").ends_with("is out of the port range (1-65535)"));
}

#[test]
fn list_at_only_for_lists() {
    let v = sample();
    assert_eq!(v.list_at(&["identity", "env"]).map(<[Value]>::len), Some(7));
    assert_eq!(v.list_at(&["flags", "list"]), Some(&[][..]));
    assert_eq!(v.list_at(&["flags", "map"]), None);
    assert_eq!(v.list_at(&["nope"]), None);
}

#[test]
fn has_tells_user_from_defaults() {
    let v = sample();
    assert!(v.user_has(&["identity", "env"]));
    assert!(!v.defaults_has(&["identity", "env"]));
    assert!(v.defaults_has(&["identity", "externalDatabase", "username"]));
    assert!(!v.user_has(&["identity", "externalDatabase", "username"]));
    assert!(v.user_has(&["flags", "n"]));
    assert!(!v.user_has(&["flags", "n", "deeper"]));
}

#[test]
fn env_value_lookups() {
    let v = sample();
    let env = |n: &str| v.env_value(&["identity", "env"], n);
    assert_eq!(
        env("SPRING_DATASOURCE_URL"),
        EnvLookup::Value("jdbc:aws-wrapper:postgresql://h:5432/db?wrapperPlugins=iam".into())
    );
    assert_eq!(
        env("SPRING_DATASOURCE_PASSWORD"),
        EnvLookup::ValueFrom {
            source: "secretKeyRef".into()
        }
    );
    assert_eq!(env("DUP"), EnvLookup::Value("second".into()));
    assert_eq!(env("EMPTY"), EnvLookup::Value(String::new()));
    assert_eq!(env("NUM"), EnvLookup::Value("5432".into()));
    assert_eq!(env("spring_datasource_url"), EnvLookup::NotFound);
    assert_eq!(env("NOPE"), EnvLookup::NotFound);
    assert_eq!(
        v.env_value(&["webModeler", "restapi", "env"], "X"),
        EnvLookup::NotFound
    );
    assert_eq!(v.env_value(&["flags", "map"], "X"), EnvLookup::NotFound);
}

#[test]
fn display_path_brackets_keys_with_dots() {
    assert_eq!(
        display_path(&[
            "identity",
            "serviceAccount",
            "annotations",
            "eks.amazonaws.com/role-arn"
        ]),
        "identity.serviceAccount.annotations[\"eks.amazonaws.com/role-arn\"]"
    );
    assert_eq!(display_path(&["a"]), "a");
    assert_eq!(display_path(&[]), "");
}

// ---- redaction ------------------------------------------------------------------------

#[test]
fn sensitive_key_names() {
    for key in [
        "password",
        "adminPassword",
        "PASSWORD",
        "inlineSecret",
        "existingSecret",
        "clientSecret",
        "token",
        "tokenUrl",
        "apiKey",
        "accesskey",
        "secretAccessKey",
        "AWS_ACCESS_KEY_ID",
        "credentials",
        "DB_PASSWD",
        "keycloakApiKey",
    ] {
        assert!(is_sensitive_key(key), "{key}");
    }
    for key in [
        "identityKeycloak",
        "keycloak",
        "KEYCLOAK_JDBC_PARAMS",
        "host",
        "username",
        "user",
        "eks.amazonaws.com/role-arn",
        "name",
        "value",
        "env",
    ] {
        assert!(!is_sensitive_key(key), "{key}");
    }
}

#[test]
fn redact_single_values() {
    assert_eq!(redact("password", &json!("hunter2")), REDACTED);
    assert_eq!(redact("adminPassword", &json!(123456)), REDACTED);
    assert_eq!(redact("password", &json!("")), "");
    assert_eq!(redact("password", &Value::Null), "null");
    assert_eq!(redact("tokenEnabled", &json!(true)), "true");
    assert_eq!(redact("host", &json!("aurora.example")), "aurora.example");
    assert_eq!(redact("port", &json!(5432)), "5432");
    assert_eq!(redact("existingSecretKey", &json!("password")), "password");
    assert_eq!(
        redact("existingSecret", &json!("literal-client-secret")),
        REDACTED
    );
    assert_eq!(
        redact(
            "existingSecret",
            &json!({"name": "identity-secret-for-components"})
        ),
        r#"{"name":"identity-secret-for-components"}"#
    );
    assert_eq!(
        redact("auth", &json!({"password": "p4ss", "username": "admin"})),
        r#"{"password":"<redacted>","username":"admin"}"#
    );
    assert_eq!(
        redact(
            "credentials",
            &json!({"user": "admin", "pass": "p4ss", "enabled": true})
        ),
        r#"{"enabled":true,"pass":"<redacted>","user":"<redacted>"}"#
    );
    assert_eq!(
        redact("tokens", &json!(["a1", "b2"])),
        r#"["<redacted>","<redacted>"]"#
    );
}

#[test]
fn redact_passwords_inside_urls_and_flags() {
    assert_eq!(
        redact(
            "url",
            &json!("jdbc:postgresql://h:5432/db?user=u&password=s3cr3t&ssl=true")
        ),
        "jdbc:postgresql://h:5432/db?user=u&password=<redacted>&ssl=true"
    );
    assert_eq!(
        redact(
            "url",
            &json!("postgres://admin:Sup3rS3cret@db.example:5432/x")
        ),
        "postgres://admin:<redacted>@db.example:5432/x"
    );
    assert_eq!(
        redact("args", &json!("--db-password=abc --log-level=INFO")),
        "--db-password=<redacted> --log-level=INFO"
    );
    assert_eq!(
        redact("u", &json!("https://host/path?Token=XYZ;other")),
        "https://host/path?Token=<redacted>;other"
    );
    // Nothing to redact: unchanged.
    let plain = "jdbc:aws-wrapper:postgresql://h:5432/db?wrapperPlugins=iam";
    assert_eq!(redact("url", &json!(plain)), plain);
    assert_eq!(redact("u", &json!("user@host")), "user@host");
    assert_eq!(redact("u", &json!("password=")), "password=");
}

/// Real-shaped values (written for this test, shaped like Camunda's EKS reference values)
/// with real-looking secrets in every place a user puts them.
const VALUES_WITH_SECRETS: &str = r#"
global:
  opensearch:
    enabled: true
    aws:
      enabled: true
    url:
      protocol: https
      host: vpc-camunda-os-abc.eu-west-1.es.amazonaws.com
      port: 443
    auth:
      username: os-admin
      password: "Os!Pass-7731"
  identity:
    auth:
      zeebe:
        existingSecret: "Zb-literal-9f8e7d"
        existingSecretKey: zeebe-secret
      connectors:
        existingSecret:
          name: identity-secret-for-components
      admin:
        secret:
          inlineSecret: "Adm-inline-42aa"
          existingSecretKey: identity-admin-client-token
  license:
    key: "LICENSE-KEY-0011-2233"
identityKeycloak:
  serviceAccount:
    name: keycloak-sa
    annotations:
      eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/AuroraRole-Keycloak
  postgresql:
    enabled: false
    auth:
      postgresPassword: "Pg-root-5150"
  externalDatabase:
    host: camunda-aurora.cluster-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com
    user: keycloak_irsa
    password: 8675309
  auth:
    adminUser: admin
    adminPassword: "Kc-admin-Xy12"
    existingSecret: identity-secret-for-components
    passwordSecretKey: identity-admin-client-token
  extraEnvVars:
    - name: KEYCLOAK_EXTRA_ARGS
      value: "--db-driver=software.amazon.jdbc.Driver --db-password=Kc-db-arg-77"
    - name: KEYCLOAK_JDBC_PARAMS
      value: wrapperPlugins=iam&ssl=true&sslmode=require
    - name: KC_DB_PASSWORD
      value: "Kc-env-pass-31"
    - name: AWS_SECRET_ACCESS_KEY
      value: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
identity:
  externalDatabase:
    enabled: true
    host: camunda-aurora.cluster-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com
    username: identity_irsa
    password: "Id-db-pass-64"
  env:
    - name: SPRING_DATASOURCE_URL
      value: "jdbc:postgresql://camunda-aurora:5432/camunda_identity?user=identity&password=Id-url-pass-99"
    - name: SPRING_DATASOURCE_PASSWORD
      valueFrom:
        secretKeyRef:
          name: identity-db
          key: password
    - name: CLIENT_CREDENTIALS
      value: ["Id-list-secret-1"]
webModeler:
  restapi:
    externalDatabase:
      url: "postgres://webmodeler:Wm-userinfo-55@camunda-aurora:5432/camunda_webmodeler"
      user: webmodeler_irsa
      password: "Wm-db-pass-12"
      secret:
        inlineSecret: "Wm-inline-88"
    mail:
      smtpPassword: "Smtp-pass-21"
      smtpUser: mailer
connectors:
  security:
    authentication:
      oidc:
        secret:
          inlineSecret: "Conn-oidc-13"
  token: "ghp_realLookingToken0123456789"
  apiKeys: ["ak-1111", "ak-2222"]
"#;

const SECRETS: &[&str] = &[
    "Os!Pass-7731",
    "Zb-literal-9f8e7d",
    "Adm-inline-42aa",
    "LICENSE-KEY-0011-2233",
    "Pg-root-5150",
    "8675309",
    "Kc-admin-Xy12",
    "Kc-db-arg-77",
    "Kc-env-pass-31",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "Id-db-pass-64",
    "Id-url-pass-99",
    "Id-list-secret-1",
    "Wm-userinfo-55",
    "Wm-db-pass-12",
    "Wm-inline-88",
    "Smtp-pass-21",
    "Conn-oidc-13",
    "ghp_realLookingToken0123456789",
    "ak-1111",
    "ak-2222",
];

#[test]
fn no_secret_survives_redacted_json() {
    let tree = super::files::parse_values_yaml(VALUES_WITH_SECRETS).unwrap();
    // The fixture really holds every secret before redaction.
    let before = tree.to_string();
    for secret in SECRETS {
        assert!(before.contains(secret), "fixture lacks {secret}");
    }
    let redacted = redacted_json(&tree);
    let text = serde_json::to_string_pretty(&redacted).unwrap();
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} survived:\n{text}");
    }
    // And what is needed to diagnose IRSA is still there.
    for shown in [
        "vpc-camunda-os-abc.eu-west-1.es.amazonaws.com",
        "arn:aws:iam::123456789012:role/AuroraRole-Keycloak",
        "keycloak_irsa",
        "identity_irsa",
        "webmodeler_irsa",
        "wrapperPlugins=iam&ssl=true&sslmode=require",
        "--db-driver=software.amazon.jdbc.Driver",
        "identity-secret-for-components",
        "identity-admin-client-token",
        "zeebe-secret",
        "SPRING_DATASOURCE_PASSWORD",
        "KC_DB_PASSWORD",
    ] {
        assert!(text.contains(shown), "{shown} was hidden:\n{text}");
    }
    let r = |path: &[&str]| Values::new(redacted.clone(), json!({})).get(path).cloned();
    assert_eq!(
        r(&["identity", "env"]).unwrap()[1]["valueFrom"]["secretKeyRef"],
        json!({"name": "identity-db", "key": "password"})
    );
    assert_eq!(
        r(&["identityKeycloak", "auth", "adminUser"]),
        Some(json!("admin"))
    );
    assert_eq!(
        r(&["identityKeycloak", "auth", "existingSecret"]),
        Some(json!(REDACTED))
    );
    assert_eq!(
        r(&["identityKeycloak", "externalDatabase", "password"]),
        Some(json!(REDACTED))
    );
    assert_eq!(
        r(&["global", "opensearch", "aws", "enabled"]),
        Some(json!(true))
    );
}

#[test]
fn redact_for_each_key_of_the_fixture_hides_every_secret() {
    let tree = super::files::parse_values_yaml(VALUES_WITH_SECRETS).unwrap();
    let mut printed = String::new();
    if let Value::Object(map) = &tree {
        for (k, v) in map {
            printed.push_str(&redact(k, v));
        }
    }
    for secret in SECRETS {
        assert!(!printed.contains(secret), "{secret} survived");
    }
}
