//! Lists and maps of a bound object, shared instead of copied.
//!
//! The `cel` crate binds each element a comprehension visits (`c` in
//! `containers.map(c, …)`) by cloning it, and a clone of its own list or map is a deep copy:
//! every container, then every port of it, is copied once per macro that visits it. The
//! objects the admission chain binds are read-only, so their lists and maps are kept behind
//! an `Arc` here and a clone is a reference count.
//!
//! They are the crate's own [`CelList`] and [`CelMap`] in every respect the interpreter can
//! see: [`Val::as_builtin`] hands out the inner value, which is how the crate recognises a
//! built-in list or map (for `downcast_ref`, equality, conversion to [`cel::Value`], `+`,
//! and function arguments), and every other accessor is the inner value's. Only copying
//! differs. `as_builtin` is hidden from the crate's documentation, so the crate is pinned to
//! the release it was checked against (docs/decisions.md, "Shared CEL values").

use cel::common::traits::{Adder, Container, Indexer, Iterable, Sizer, Zeroer};
use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelUInt, Type,
};
use cel::common::value::{Builtin, BuiltinRef, CowVal, StaticVal, Val};
use cel::{ExecutionError, Value};
use std::any::Any;
use std::sync::Arc;

/// A list whose clone is a reference count; the interpreter sees a [`CelList`].
#[derive(Debug, Clone)]
pub(crate) struct SharedList(Arc<CelList<'static>>);

/// A map whose clone is a reference count; the interpreter sees a [`CelMap`].
#[derive(Debug, Clone)]
pub(crate) struct SharedMap(Arc<CelMap<'static>>);

impl SharedList {
    pub fn new(items: Vec<Box<dyn Val>>) -> Self {
        SharedList(Arc::new(CelList::from(items)))
    }
}

impl SharedMap {
    pub fn new(entries: std::collections::HashMap<CelMapKey<'static>, Box<dyn Val>>) -> Self {
        SharedMap(Arc::new(CelMap::from(entries)))
    }
}

/// Forwards every accessor of [`Val`] to the shared built-in value, and shares on clone.
macro_rules! shared_val {
    ($shared:ty, $inner:ty, $variant:ident) => {
        impl Val for $shared {
            fn get_type(&self) -> &Type {
                self.0.get_type()
            }

            fn cel_type() -> &'static Type {
                <$inner as Val>::cel_type()
            }

            fn as_adder<'b, 'w>(&'b self) -> Option<&'b (dyn Adder + 'w)>
            where
                Self: 'w,
            {
                self.0.as_adder()
            }

            fn as_container(&self) -> Option<&dyn Container> {
                self.0.as_container()
            }

            fn as_indexer<'b, 'w>(&'b self) -> Option<&'b (dyn Indexer + 'w)>
            where
                Self: 'w,
            {
                self.0.as_indexer()
            }

            fn into_indexer<'w>(self: Box<Self>) -> Option<Box<dyn Indexer + 'w>>
            where
                Self: 'w,
            {
                Some(self)
            }

            fn as_iterable<'b, 'w>(&'b self) -> Option<&'b (dyn Iterable + 'w)>
            where
                Self: 'w,
            {
                self.0.as_iterable()
            }

            fn as_sizer(&self) -> Option<&dyn Sizer> {
                self.0.as_sizer()
            }

            fn as_zeroer(&self) -> Option<&dyn Zeroer> {
                self.0.as_zeroer()
            }

            fn equals(&self, other: &dyn Val) -> bool {
                self.0.equals(other)
            }

            fn clone_as_boxed<'w>(&self) -> Box<dyn Val + 'w>
            where
                Self: 'w,
            {
                Box::new(self.clone())
            }

            fn as_any(&self) -> Option<&dyn Any> {
                Some(self)
            }

            fn as_builtin<'b, 'w>(&'b self) -> BuiltinRef<'b, 'w>
            where
                Self: 'w,
            {
                BuiltinRef::$variant(&self.0)
            }

            fn into_builtin<'w>(self: Box<Self>) -> Option<Builtin<'w>>
            where
                Self: 'w,
            {
                // Moved out when nothing else holds it, copied otherwise: the caller
                // consumes the value, and others may still read it.
                Some(Builtin::$variant(Arc::unwrap_or_clone(self.0)))
            }
        }

        impl StaticVal for $shared {}

        impl Indexer for $shared {
            fn get<'b, 'w>(&'b self, index: &dyn Val) -> Result<CowVal<'b, 'w>, ExecutionError>
            where
                Self: 'w,
            {
                Indexer::get(&*self.0, index)
            }

            fn steal<'w>(
                self: Box<Self>,
                index: &dyn Val,
            ) -> Result<Box<dyn Val + 'w>, ExecutionError>
            where
                Self: 'w,
            {
                self.get(index).map(CowVal::into_owned)
            }
        }
    };
}

shared_val!(SharedList, CelList<'static>, List);
shared_val!(SharedMap, CelMap<'static>, Map);

/// A value the interpreter produced, as one that outlives the evaluation: shared lists and
/// maps are shared again, built-in ones rebuilt around their (shared) elements, scalars
/// copied. This is how a variable's value is kept for the rest of the request.
pub(crate) fn to_static(value: &dyn Val) -> Result<Box<dyn Val>, ExecutionError> {
    if let Some(list) = value.downcast_ref::<SharedList>() {
        return Ok(Box::new(list.clone()));
    }
    if let Some(map) = value.downcast_ref::<SharedMap>() {
        return Ok(Box::new(map.clone()));
    }
    match value.as_builtin() {
        BuiltinRef::List(list) => {
            let items = list
                .inner()
                .iter()
                .map(|item| to_static(item.as_ref()))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Box::new(SharedList::new(items)));
        }
        BuiltinRef::Map(map) => {
            let entries = map
                .inner()
                .iter()
                .map(|(k, v)| Ok((k.clone().into_static(), to_static(v.as_ref())?)))
                .collect::<Result<_, ExecutionError>>()?;
            return Ok(Box::new(SharedMap::new(entries)));
        }
        BuiltinRef::String(s) => return Ok(Box::new(s.clone().into_static())),
        BuiltinRef::Bytes(b) => return Ok(Box::new(b.clone().into_static())),
        _ => {}
    }
    if let Some(v) = value.downcast_ref::<CelInt>() {
        return Ok(Box::new(*v));
    }
    if let Some(v) = value.downcast_ref::<CelUInt>() {
        return Ok(Box::new(*v));
    }
    if let Some(v) = value.downcast_ref::<CelDouble>() {
        return Ok(Box::new(*v));
    }
    if let Some(v) = value.downcast_ref::<CelBool>() {
        return Ok(Box::new(*v));
    }
    if value.downcast_ref::<CelNull>().is_some() {
        return Ok(Box::new(CelNull));
    }
    // Anything else (optionals, types, timestamps, opaque values) goes through `Value`, as
    // the crate converts it.
    Box::<dyn Val>::try_from(Value::try_from(value)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cel::common::types::CelString;
    use std::collections::HashMap;

    fn string(s: &str) -> Box<dyn Val> {
        Box::new(CelString::from(s.to_string()))
    }

    fn sample() -> SharedMap {
        let ports = SharedList::new(vec![
            Box::new(CelInt::from(80)),
            Box::new(CelInt::from(443)),
        ]);
        SharedMap::new(HashMap::from([
            (CelMapKey::from("name".to_string()), string("web")),
            (
                CelMapKey::from("ports".to_string()),
                Box::new(ports) as Box<dyn Val>,
            ),
        ]))
    }

    #[test]
    fn a_clone_shares_the_value() {
        let map = sample();
        let copy = map.clone_as_boxed();
        let copy = copy.downcast_ref::<SharedMap>().expect("still shared");
        assert!(Arc::ptr_eq(&map.0, &copy.0));
    }

    #[test]
    fn the_crate_sees_built_in_values() {
        let map = sample();
        assert!((&map as &dyn Val).downcast_ref::<CelMap>().is_some());
        let plain = Value::try_from(&map as &dyn Val).expect("converts like a built-in map");
        let Value::Map(plain) = plain else {
            panic!("a map converts to a map")
        };
        assert_eq!(plain.map.len(), 2);
        // Equal to a built-in map with the same entries, both ways round.
        let built_in: Box<dyn Val> = Box::<dyn Val>::try_from(Value::Map(plain)).unwrap();
        assert!(built_in.equals(&map));
        assert!(map.equals(built_in.as_ref()));
    }

    #[test]
    fn to_static_keeps_shared_values_shared_and_rebuilds_others() {
        let map = sample();
        let kept = to_static(&map).unwrap();
        assert!(Arc::ptr_eq(
            &map.0,
            &kept.downcast_ref::<SharedMap>().unwrap().0
        ));
        let list: Box<dyn Val> = Box::new(CelList::from(vec![
            map.clone_as_boxed(),
            string("x"),
            Box::new(CelNull) as Box<dyn Val>,
        ]));
        let rebuilt = to_static(list.as_ref()).unwrap();
        assert!(rebuilt.equals(list.as_ref()));
        let items = rebuilt.downcast_ref::<CelList>().unwrap().inner();
        assert!(Arc::ptr_eq(
            &map.0,
            &items[0].downcast_ref::<SharedMap>().unwrap().0
        ));
    }

    /// Every kind of operation the interpreter has, on a bound object whose lists and maps
    /// are shared, gives what it gives on the same object built from the crate's own values.
    #[test]
    fn shared_bindings_evaluate_like_built_in_ones() {
        use super::super::json_to_cel::cel_value_of;
        use super::super::library::kubernetes_env;
        use cel::Context;

        let object = serde_json::json!({
            "metadata": {"name": "web", "labels": {"team": "a", "tier": "web"}},
            "spec": {
                "containers": [
                    {"name": "app", "image": "nginx:1", "ports": [{"hostPort": 80}, {"containerPort": 8080}],
                     "resources": {"limits": {"memory": "1Gi"}}},
                    {"name": "side", "image": "busybox", "args": ["b", "a"]}
                ],
                "initContainers": [{"name": "init", "image": "alpine"}],
                "nodeSelector": {}
            }
        });
        let expressions = [
            "object",
            "object.spec.containers",
            "object.spec.containers + object.spec.initContainers",
            "object.spec.containers[0]",
            "object.spec.containers[0].ports[0].hostPort",
            "object.spec.containers.map(c, c.name)",
            "object.spec.containers.map(c, c)",
            "object.spec.containers.filter(c, has(c.ports)).map(c, c.ports.map(p, p))",
            "object.spec.containers.exists(c, c.image.startsWith('nginx'))",
            "object.spec.containers.all(c, has(c.args))",
            "object.spec.containers.exists_one(c, c.name == 'side')",
            "object.metadata.labels == {'team': 'a', 'tier': 'web'}",
            "{'team': 'a', 'tier': 'web'} == object.metadata.labels",
            "object.metadata.labels != object.spec.nodeSelector",
            "object.spec.containers[1].args == ['b', 'a']",
            "'team' in object.metadata.labels",
            "'a' in object.spec.containers[1].args",
            "object.spec.containers[0] in object.spec.containers",
            "size(object.spec.containers) + size(object.metadata.labels)",
            "object.metadata.labels.filter(k, object.metadata.labels[k] == 'web').map(k, k + '=web')",
            "object.spec.containers[1].args.join(',')",
            "object.spec.containers[1].args.isSorted()",
            "object.spec.containers[1].args.indexOf('a')",
            "[object.spec.containers[0]][0].name",
            "{'c': object.spec.containers}.c[1].name",
            "quantity(object.spec.containers[0].resources.limits.memory).isGreaterThan(quantity('1G'))",
            "type(object.spec) == map && type(object.spec.containers) == list",
            "object.?spec.?containers[0].?name.orValue('none')",
            "object.spec.?missing.orValue([]) == []",
            "has(object.spec.nodeSelector) && object.spec.nodeSelector == {}",
            "object.spec.containers[5]",
            "object.spec.missing",
            "object.spec.containers[0] + object.spec.containers[1]",
            "dyn(object.spec.containers) + [1]",
        ];
        let env = Arc::new(kubernetes_env());
        let shared = cel_value_of(&object);
        let built_in = Box::<dyn Val>::try_from(Value::try_from(shared.as_ref()).unwrap()).unwrap();
        assert!(built_in.downcast_ref::<SharedMap>().is_none());
        for expression in expressions {
            let program = env.compile(expression).unwrap();
            let run = |binding: &dyn Val| {
                let mut context = Context::with_env(Arc::clone(&env));
                context.add_variable_as_val("object", binding.clone_as_boxed());
                // An error's text lists map entries in hash order: compare its kind.
                program.execute(&context).map_err(|e| {
                    let text = e.to_string();
                    text.split(':').next().unwrap_or_default().to_string()
                })
            };
            assert_eq!(run(shared.as_ref()), run(built_in.as_ref()), "{expression}");
        }
    }
}
