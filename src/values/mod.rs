//! PROVISIONAL stand-in until the `values` branch lands (same API subset).
use serde_json::Value;

pub struct Values {
    user: Value,
    defaults: Value,
    merged: Value,
}

fn coalesce(user: &Value, defaults: &Value) -> Value {
    match (user, defaults) {
        (Value::Object(u), Value::Object(d)) => {
            let mut out = d.clone();
            for (k, v) in u {
                if v.is_null() {
                    out.remove(k);
                } else {
                    let merged = match d.get(k) {
                        Some(dv) => coalesce(v, dv),
                        None => v.clone(),
                    };
                    out.insert(k.clone(), merged);
                }
            }
            Value::Object(out)
        }
        (u, _) => u.clone(),
    }
}

fn walk<'a>(mut v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    for p in path {
        v = v.as_object()?.get(*p)?;
    }
    Some(v)
}

impl Values {
    pub fn new(user: Value, defaults: Value) -> Self {
        let merged = coalesce(&user, &defaults);
        Values {
            user,
            defaults,
            merged,
        }
    }
    pub fn get(&self, path: &[&str]) -> Option<&Value> {
        walk(&self.merged, path).filter(|v| !v.is_null())
    }
    pub fn user_has(&self, path: &[&str]) -> bool {
        walk(&self.user, path).is_some()
    }
    pub fn defaults_has(&self, path: &[&str]) -> bool {
        walk(&self.defaults, path).is_some()
    }
}
