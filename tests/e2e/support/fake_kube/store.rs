//! The fake's memory: the kinds it serves, the objects, one global resourceVersion
//! counter and the history of changes that watches replay.

use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// One kind the fake serves, with its REST coordinates.
#[derive(Debug, PartialEq, Eq)]
pub struct Resource {
    pub kind: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
}

impl Resource {
    /// `v1` or `batch/v1`, as in an object's `apiVersion`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `pods`, `jobs.batch`: how the API server names the resource in messages.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Pod`, `Job.batch`: how validation messages name the kind.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// `details` of a Status about one object of this resource.
    pub fn status_details(&self, name: &str) -> Value {
        let mut details = Map::new();
        if !name.is_empty() {
            details.insert("name".into(), json!(name));
        }
        if !self.group.is_empty() {
            details.insert("group".into(), json!(self.group));
        }
        details.insert("kind".into(), json!(self.plural));
        Value::Object(details)
    }
}

pub const NAMESPACE: Resource = Resource {
    kind: "Namespace",
    group: "",
    version: "v1",
    plural: "namespaces",
    namespaced: false,
};

pub const NODE: Resource = Resource {
    kind: "Node",
    group: "",
    version: "v1",
    plural: "nodes",
    namespaced: false,
};

pub const SECRET: Resource = Resource {
    kind: "Secret",
    group: "",
    version: "v1",
    plural: "secrets",
    namespaced: true,
};

pub const SERVICE_ACCOUNT: Resource = Resource {
    kind: "ServiceAccount",
    group: "",
    version: "v1",
    plural: "serviceaccounts",
    namespaced: true,
};

pub const POD: Resource = Resource {
    kind: "Pod",
    group: "",
    version: "v1",
    plural: "pods",
    namespaced: true,
};

pub const SERVICE: Resource = Resource {
    kind: "Service",
    group: "",
    version: "v1",
    plural: "services",
    namespaced: true,
};

pub const CONFIG_MAP: Resource = Resource {
    kind: "ConfigMap",
    group: "",
    version: "v1",
    plural: "configmaps",
    namespaced: true,
};

pub const DEPLOYMENT: Resource = Resource {
    kind: "Deployment",
    group: "apps",
    version: "v1",
    plural: "deployments",
    namespaced: true,
};

pub const STATEFUL_SET: Resource = Resource {
    kind: "StatefulSet",
    group: "apps",
    version: "v1",
    plural: "statefulsets",
    namespaced: true,
};

pub const JOB: Resource = Resource {
    kind: "Job",
    group: "batch",
    version: "v1",
    plural: "jobs",
    namespaced: true,
};

/// Every kind the fake serves.
pub const RESOURCES: &[Resource] = &[
    NAMESPACE,
    NODE,
    SECRET,
    SERVICE_ACCOUNT,
    POD,
    SERVICE,
    CONFIG_MAP,
    DEPLOYMENT,
    STATEFUL_SET,
    JOB,
];

pub fn resource_by_route(group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

pub fn resource_by_kind(kind: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|r| r.kind == kind)
}

/// The resource an object belongs to, from its `apiVersion` and `kind`.
pub fn resource_of(object: &Value) -> Option<&'static Resource> {
    let kind = object.get("kind")?.as_str()?;
    let api_version = object.get("apiVersion")?.as_str()?;
    resource_by_kind(kind).filter(|r| r.api_version() == api_version)
}

/// Where an object lives: namespace ("" when cluster-scoped) and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectKey {
    pub namespace: String,
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

/// One change, as a watch replays it.
#[derive(Clone, Debug)]
pub struct Change {
    pub resource_version: u64,
    pub resource: &'static Resource,
    pub change: ChangeType,
    /// The new state (for a deletion: the last state, with the deletion's resourceVersion).
    pub object: Value,
    /// The state before a modification, so a watch with a label selector can tell
    /// an object that stops matching (a DELETED for that watcher) from one that starts.
    pub previous: Option<Value>,
}

/// All objects and their history.
pub struct Store {
    objects: BTreeMap<(&'static str, ObjectKey), Value>,
    pub history: Vec<Change>,
    pub resource_version: u64,
    pub logs: BTreeMap<ObjectKey, String>,
    pub rng: Rng,
}

impl Store {
    pub fn new() -> Store {
        Store {
            objects: BTreeMap::new(),
            history: Vec::new(),
            resource_version: 0,
            logs: BTreeMap::new(),
            rng: Rng::new(),
        }
    }

    fn key(resource: &Resource, namespace: &str, name: &str) -> (&'static str, ObjectKey) {
        let kind = resource.kind;
        let namespace = if resource.namespaced { namespace } else { "" };
        (
            kind,
            ObjectKey {
                namespace: namespace.to_string(),
                name: name.to_string(),
            },
        )
    }

    pub fn get(&self, resource: &Resource, namespace: &str, name: &str) -> Option<&Value> {
        self.objects.get(&Self::key(resource, namespace, name))
    }

    /// Objects of one resource, sorted by namespace then name like etcd's key order;
    /// `namespace: None` means all namespaces.
    pub fn objects<'a>(
        &'a self,
        resource: &'static Resource,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a ObjectKey, &'a Value)> + 'a {
        self.objects
            .iter()
            .filter(move |((kind, key), _)| {
                *kind == resource.kind && namespace.is_none_or(|ns| key.namespace == ns)
            })
            .map(|((_, key), object)| (key, object))
    }

    /// Every object of every kind.
    pub fn all(&self) -> impl Iterator<Item = &Value> {
        self.objects.values()
    }

    /// Stores an object (new or replacing), stamping a fresh resourceVersion and
    /// recording the change. The caller has filled the rest of the metadata.
    pub fn put(&mut self, resource: &'static Resource, mut object: Value) -> Value {
        self.resource_version += 1;
        let rv = self.resource_version;
        let namespace = str_at(&object, "/metadata/namespace").to_string();
        let name = str_at(&object, "/metadata/name").to_string();
        set_metadata(&mut object, "resourceVersion", json!(rv.to_string()));
        let key = Self::key(resource, &namespace, &name);
        let previous = self.objects.insert(key, object.clone());
        let change = if previous.is_some() {
            ChangeType::Modified
        } else {
            ChangeType::Added
        };
        self.history.push(Change {
            resource_version: rv,
            resource,
            change,
            object: object.clone(),
            previous,
        });
        object
    }

    /// Removes an object, recording the deletion with a fresh resourceVersion.
    pub fn delete(
        &mut self,
        resource: &'static Resource,
        namespace: &str,
        name: &str,
    ) -> Option<Value> {
        let mut object = self.objects.remove(&Self::key(resource, namespace, name))?;
        self.resource_version += 1;
        let rv = self.resource_version;
        set_metadata(&mut object, "resourceVersion", json!(rv.to_string()));
        if resource.kind == "Pod" {
            self.logs.remove(&ObjectKey {
                namespace: namespace.to_string(),
                name: name.to_string(),
            });
        }
        self.history.push(Change {
            resource_version: rv,
            resource,
            change: ChangeType::Deleted,
            object: object.clone(),
            previous: None,
        });
        Some(object)
    }

    /// Objects whose ownerReferences name this uid.
    fn dependents(&self, uid: &str) -> Vec<(&'static Resource, Value)> {
        self.objects
            .values()
            .filter(|o| {
                o.pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| refs.iter().any(|r| str_at(r, "/uid") == uid))
            })
            .filter_map(|o| resource_of(o).map(|r| (r, o.clone())))
            .collect()
    }

    /// The garbage collector's cascade (background and foreground end the same way here).
    pub fn delete_dependents(&mut self, uid: &str) {
        for (resource, object) in self.dependents(uid) {
            let namespace = str_at(&object, "/metadata/namespace");
            let name = str_at(&object, "/metadata/name");
            if let Some(deleted) = self.delete(resource, namespace, name) {
                self.delete_dependents(str_at(&deleted, "/metadata/uid"));
            }
        }
    }

    /// Orphaning removes the owner's reference from each dependent.
    pub fn orphan_dependents(&mut self, uid: &str) {
        for (resource, mut object) in self.dependents(uid) {
            if let Some(refs) = object
                .pointer_mut("/metadata/ownerReferences")
                .and_then(Value::as_array_mut)
            {
                refs.retain(|r| str_at(r, "/uid") != uid);
            }
            self.put(resource, object);
        }
    }

    /// Fills what the API server sets on every new object: namespace, uid,
    /// creationTimestamp. Keeps values the object already has (seeded worlds).
    pub fn stamp_new(&mut self, resource: &Resource, object: &mut Value, namespace: &str) {
        if resource.namespaced {
            set_metadata(object, "namespace", json!(namespace));
        }
        if str_at(object, "/metadata/uid").is_empty() {
            let uid = self.rng.uid();
            set_metadata(object, "uid", json!(uid));
        }
        if str_at(object, "/metadata/creationTimestamp").is_empty() {
            set_metadata(object, "creationTimestamp", json!(now_rfc3339()));
        }
    }
}

/// Small non-cryptographic generator (splitmix64) for names and uids: the
/// dependency set has no `rand`, and these only need to differ between runs.
pub struct Rng(u64);

impl Rng {
    pub fn new() -> Rng {
        let seed = std::collections::hash_map::RandomState::new().hash_one(SystemTime::now());
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A suffix like the API server's `generateName` (k8s utilrand's alphabet,
    /// which leaves out vowels and look-alike digits).
    pub fn suffix(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..len)
            .map(|_| ALPHABET[(self.next_u64() % ALPHABET.len() as u64) as usize] as char)
            .collect()
    }

    /// A random (version 4) UUID.
    pub fn uid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            ((b >> 48) & 0x3fff) | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }
}

/// The string at a JSON pointer, or "" when absent or not a string.
pub fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// Sets `metadata.<field>`, creating `metadata` when the object has none.
pub fn set_metadata(object: &mut Value, field: &str, value: Value) {
    if let Some(map) = object.as_object_mut() {
        let metadata = map
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if !metadata.is_object() {
            *metadata = Value::Object(Map::new());
        }
        if let Some(metadata) = metadata.as_object_mut() {
            metadata.insert(field.to_string(), value);
        }
    }
}

/// The object's labels as strings (non-string values are ignored).
pub fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The mutable map at `pointer`, created (as `{}`) along the way when missing.
pub fn object_at<'a>(value: &'a mut Value, pointer: &str) -> Option<&'a mut Map<String, Value>> {
    let mut current = value;
    for part in pointer.split('/').skip(1) {
        let map = current.as_object_mut()?;
        current = map
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if current.is_null() {
            *current = Value::Object(Map::new());
        }
    }
    current.as_object_mut()
}

pub fn now_rfc3339() -> String {
    rfc3339(SystemTime::now())
}

/// `2026-11-30T09:51:49Z`: the API server's timestamp format (whole seconds, UTC).
pub fn rfc3339(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_732_965_600);
        assert_eq!(rfc3339(t), "2024-11-30T11:20:00Z");
        // A leap day.
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(t), "2000-02-29T00:00:00Z");
    }
}
