//! A map kept as a list sorted by its keys (paths): built once from its items, then walked
//! in order or looked up by binary search. The rendered tree's known files and a scan of
//! the output folder are such maps of about 100,000 paths at 200 × 500; as `BTreeMap`s
//! they cost a sort buffer and a node per few entries on top of the list they came from.

/// Items sorted by key, each key once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SortedMap<V> {
    items: Vec<(String, V)>,
}

impl<V> Default for SortedMap<V> {
    fn default() -> SortedMap<V> {
        SortedMap { items: Vec::new() }
    }
}

impl<V> SortedMap<V> {
    /// The value at `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        let at = self.items.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok()?;
        Some(&self.items[at].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The items, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.items.iter().map(|(k, v)| (k, v))
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.items.iter().map(|(k, _)| k)
    }

    /// The items as a slice, in key order (for a parallel walk).
    pub fn as_slice(&self) -> &[(String, V)] {
        &self.items
    }

    /// The items, in key order.
    pub fn into_vec(self) -> Vec<(String, V)> {
        self.items
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl<'a, V> IntoIterator for &'a SortedMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (String, V)>, fn(&'a (String, V)) -> (&'a String, &'a V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter().map(|(k, v)| (k, v))
    }
}

impl<V: Sync> SortedMap<V> {
    /// The map of the items in `list`, as a `BTreeMap` would hold them: sorted, and of items
    /// with the same key the last one kept. A list that comes sorted (a walk's, or lists
    /// sorted per cluster and gathered in cluster order) is only checked, on the pool when it
    /// is long (comparing 99,423 paths that share long prefixes took 3 ms), and kept as the
    /// map's own: not copied.
    pub fn from_vec(mut list: Vec<(String, V)>) -> SortedMap<V> {
        use rayon::prelude::*;
        let in_order = |pair: &[(String, V)]| pair[0].0 < pair[1].0;
        let sorted = if list.len() < 4096 {
            list.windows(2).all(in_order)
        } else {
            list.par_windows(2).all(in_order)
        };
        if !sorted {
            // Stable: of equal keys, the last one given is last, and kept.
            list.sort_by(|a, b| a.0.cmp(&b.0));
            list.dedup_by(|later, kept| {
                let same = later.0 == kept.0;
                if same {
                    std::mem::swap(later, kept);
                }
                same
            });
        }
        SortedMap { items: list }
    }
}

impl<V: Sync> FromIterator<(String, V)> for SortedMap<V> {
    /// As [`SortedMap::from_vec`] of the items.
    fn from_iter<I: IntoIterator<Item = (String, V)>>(items: I) -> SortedMap<V> {
        let items = items.into_iter();
        // Room for as many as the source may give (a `filter_map` says none at least, and
        // a list grown by doubling touched 23 MB for 11.5 MB at 200 × 500).
        let (least, most) = items.size_hint();
        let mut list: Vec<(String, V)> = Vec::with_capacity(most.unwrap_or(least));
        list.extend(items);
        SortedMap::from_vec(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_a_btree_map_of_the_same_items_would() {
        let items = [("b", 1), ("a", 2), ("c", 3), ("a", 4), ("b", 5), ("", 6)];
        let owned = || items.iter().map(|(k, v)| (k.to_string(), *v));
        let map: SortedMap<i32> = owned().collect();
        let btree: std::collections::BTreeMap<String, i32> = owned().collect();
        assert_eq!(map.iter().collect::<Vec<_>>(), btree.iter().collect::<Vec<_>>());
        assert_eq!(map.len(), 4);
        for key in ["", "a", "b", "c", "d", "aa"] {
            assert_eq!(map.get(key), btree.get(key), "{key}");
            assert_eq!(map.contains_key(key), btree.contains_key(key));
        }
        // Sorted already: kept as given.
        let sorted: SortedMap<i32> = [("a", 1), ("b", 2)].iter().map(|(k, v)| (k.to_string(), *v)).collect();
        assert_eq!(sorted.keys().collect::<Vec<_>>(), ["a", "b"]);
        // A long list, checked on the pool: sorted, kept; one pair out of order anywhere, and
        // it is sorted, the last of equal keys kept.
        let long = |swap: Option<usize>| {
            let mut list: Vec<(String, usize)> = (0..10_000).map(|i| (format!("p/{i:05}"), i)).collect();
            if let Some(at) = swap {
                list.swap(at, at + 1);
                list.push(("p/00007".into(), 0));
            }
            SortedMap::from_vec(list)
        };
        let kept = long(None);
        assert_eq!(kept.len(), 10_000);
        for at in [0, 4095, 4096, 9998] {
            let map = long(Some(at));
            assert_eq!(map.len(), 10_000, "{at}");
            assert!(map.keys().zip(map.keys().skip(1)).all(|(a, b)| a < b), "{at}");
            assert_eq!(map.get("p/00007"), Some(&0), "{at}");
            assert_eq!(map.get("p/09999"), Some(&9_999), "{at}");
        }
        assert!(SortedMap::<i32>::default().is_empty());
    }
}
