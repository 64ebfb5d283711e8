//! keyward's profile of HTTP Message Signatures (RFC 9421) for PoP requests
//! (docs/pop.md, "RFC 9421 profile"): the same key, the same checks and
//! limits as the `X-TS`/`X-NONCE`/`X-POP` headers, in the standard's form.
//!
//! One signature, labelled `pop`, with `hmac-sha256` under the PoP key:
//!
//! ```text
//! Signature-Input: pop=("@method" "@target-uri" "content-digest");created=1700000000;keyid="<session id>";nonce="<nonce>";alg="hmac-sha256"
//! Signature: pop=:<32-byte MAC, base64>:
//! Content-Digest: sha-256=:<SHA-256 of the body, base64>:
//! ```
//!
//! What a signature must cover is fixed, so that no signature can leave out
//! a part of the request that changes its meaning: the method, the target
//! (`@target-uri`, or `@path` and `@query` together), and `content-digest`
//! whenever the request has a body. Structured fields are parsed and
//! serialised by the `sfv` crate (RFC 8941), never by hand.

use hmac::{Hmac, Mac};
use sfv::{
    BareItem, DictSerializer, Dictionary, InnerList, Item, KeyRef, ListEntry, ListSerializer,
    Parameters, Parser, Version,
};
use sha2::{Digest, Sha256};

use crate::headers::{valid_nonce, MAX_TIMESTAMP_MS, NONCE_MAX_BYTES, NONCE_MIN_BYTES};
use crate::{Checks, Error, PopKey, MAC_LEN};

/// The one signature label this profile reads and writes.
pub const LABEL: &str = "pop";
/// The `alg` parameter, which this profile requires.
pub const ALG: &str = "hmac-sha256";
/// The `Content-Digest` algorithm a body is hashed with.
pub const DIGEST_ALG: &str = "sha-256";
/// The largest `created`, in seconds: `X-TS`'s limit (2^53 − 1 ms), in whole seconds.
pub const MAX_CREATED_S: u64 = MAX_TIMESTAMP_MS / 1000;
/// The longest `keyid`: a session id is at most 512 characters (the binding
/// exports it as `POP_MAX_SESSION_ID_CHARS`, which src/pop/key.ts checks).
pub const MAX_KEYID_BYTES: usize = 512;
/// The longest field value this profile reads.
pub const MAX_FIELD_BYTES: usize = 8192;

const METHOD: &str = "@method";
const TARGET_URI: &str = "@target-uri";
const PATH: &str = "@path";
const QUERY: &str = "@query";
const CONTENT_DIGEST: &str = "content-digest";

/// How the signature names the request's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `@target-uri`: scheme, authority, path and query.
    Uri,
    /// `@path` and `@query`: the origin is not covered (for servers behind a
    /// proxy that changes scheme or host).
    PathAndQuery,
}

/// A request as this profile sees it.
pub struct Message<'a> {
    /// The method as sent (case is kept: methods are case-sensitive).
    pub method: &'a str,
    /// `scheme://authority` as the client addressed the server, e.g.
    /// `https://api.example.com`; only `@target-uri` covers it.
    pub origin: &'a str,
    /// The request target exactly as sent: path, and `?query` if any.
    pub target: &'a str,
    /// The raw body bytes; empty when there is none.
    pub body: &'a [u8],
}

/// What the signer adds to the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub signature_input: String,
    pub signature: String,
    /// `Some` when the request has a body (and so the signature covers it).
    pub content_digest: Option<String>,
}

/// The signature fields of a received request, each as one field value
/// (repeated lines joined by `, `, as HTTP combines them); `None` when absent.
pub struct Received<'a> {
    pub signature_input: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub content_digest: Option<&'a str>,
}

/// What the signer chooses.
pub struct SignParams<'a> {
    /// The session id.
    pub key_id: &'a str,
    /// Seconds since the epoch.
    pub created_s: u64,
    /// 8–128 bytes of visible ASCII, as `X-NONCE`.
    pub nonce: &'a str,
    pub target: Target,
}

fn profile(reason: &'static str) -> Error {
    Error::Profile(reason)
}

/// `sha-256=:…:`, RFC 9530's Content-Digest of `body`.
pub fn content_digest(body: &[u8]) -> String {
    let mut ser = DictSerializer::new();
    let _ = ser.bare_item(key(DIGEST_ALG), Sha256::digest(body).as_slice());
    ser.finish().expect("one member")
}

fn key(name: &'static str) -> &'static KeyRef {
    KeyRef::from_str(name).expect("a valid key")
}

fn string_item(text: &str) -> Result<BareItem, Error> {
    sfv::String::from_string(text.to_owned())
        .map(BareItem::String)
        .map_err(|_| profile("a parameter is not a structured-field string"))
}

/// A component value may hold no line break nor anything but printable
/// ASCII, so that one line of the signature base cannot pass for another.
fn printable(value: &str) -> bool {
    value.len() <= MAX_FIELD_BYTES && value.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

/// `@path` and `@query` of a target (RFC 9421 §2.2.6–2.2.7): an empty path is
/// `/`, an absent query is `?` alone.
fn path_and_query(target: &str) -> (&str, &str) {
    let (path, query) = match target.find('?') {
        Some(at) => target.split_at(at),
        None => (target, "?"),
    };
    (if path.is_empty() { "/" } else { path }, query)
}

/// The parts a signature covers, in its order, and its parameters.
struct Covered {
    components: Vec<&'static str>,
    params: InnerList,
}

impl Covered {
    /// `@signature-params`: the inner list as RFC 8941 serialises it.
    fn serialized(&self) -> String {
        let entry = ListEntry::InnerList(self.params.clone());
        let mut ser = ListSerializer::new();
        ser.members([&entry]);
        ser.finish().expect("one member")
    }

    /// The signature base of RFC 9421 §2.5: one line per component, then the parameters.
    fn base(&self, message: &Message<'_>, digest: Option<&str>) -> Result<String, Error> {
        let mut base = String::new();
        for &name in &self.components {
            let (path, query) = path_and_query(message.target);
            let value: std::borrow::Cow<'_, str> = match name {
                METHOD => message.method.into(),
                TARGET_URI => format!("{}{}", message.origin, message.target).into(),
                PATH => path.into(),
                QUERY => query.into(),
                _ => digest
                    .ok_or(profile("content-digest is covered but absent"))?
                    .into(),
            };
            if !printable(&value) {
                return Err(profile("a covered component is not printable ASCII"));
            }
            base.push_str(&format!("\"{name}\": {value}\n"));
        }
        base.push_str("\"@signature-params\": ");
        base.push_str(&self.serialized());
        Ok(base)
    }
}

/// The covered components in a form this profile allows, or why not: the
/// method, one way of naming the target, and content-digest when there is a
/// body (allowed without one), each once, without component parameters.
fn components(items: &[Item], has_body: bool) -> Result<Vec<&'static str>, Error> {
    let mut seen = Vec::with_capacity(items.len());
    for item in items {
        if !item.params.is_empty() {
            return Err(profile("component parameters are not part of this profile"));
        }
        let name = item
            .bare_item
            .as_string()
            .ok_or(profile("a component name is not a string"))?;
        let known = [METHOD, TARGET_URI, PATH, QUERY, CONTENT_DIGEST]
            .into_iter()
            .find(|known| *known == name.as_str())
            .ok_or(profile("a covered component is not part of this profile"))?;
        if seen.contains(&known) {
            return Err(profile("a component is covered twice"));
        }
        seen.push(known);
    }
    let has = |name| seen.contains(&name);
    if !has(METHOD) {
        return Err(profile("the signature must cover @method"));
    }
    let by_uri = has(TARGET_URI) && !has(PATH) && !has(QUERY);
    let by_parts = !has(TARGET_URI) && has(PATH) && has(QUERY);
    if !(by_uri || by_parts) {
        return Err(profile(
            "the signature must cover @target-uri, or @path and @query",
        ));
    }
    if has_body && !has(CONTENT_DIGEST) {
        return Err(profile("a request with a body must cover content-digest"));
    }
    Ok(seen)
}

/// A dictionary field holding exactly one member, named `name`.
fn only_member(field: &str, name: &str) -> Result<ListEntry, Error> {
    if field.len() > MAX_FIELD_BYTES {
        return Err(profile("a signature field is too long"));
    }
    let dict: Dictionary = Parser::new(field)
        .with_version(Version::Rfc8941)
        .parse()
        .map_err(|_| profile("a signature field is not a structured-field dictionary"))?;
    match (dict.len(), dict.into_iter().next()) {
        (1, Some((label, entry))) if label.as_str() == name => Ok(entry),
        _ => Err(profile(
            "a signature field must hold exactly the one expected member",
        )),
    }
}

/// The parameters of `Signature-Input`, all required, no others.
struct Params {
    /// Checked against the window later, after `keyid`.
    created: i64,
    key_id: String,
    nonce: String,
}

fn params(params: &Parameters) -> Result<Params, Error> {
    let (mut created, mut key_id, mut nonce, mut alg) = (None, None, None, None);
    for (name, value) in params {
        match name.as_str() {
            "created" => created = value.as_integer().map(i64::from),
            "keyid" => key_id = value.as_string().map(|s| s.as_str().to_owned()),
            "nonce" => nonce = value.as_string().map(|s| s.as_str().to_owned()),
            "alg" => alg = value.as_string().map(|s| s.as_str().to_owned()),
            _ => return Err(profile("a signature parameter is not part of this profile")),
        }
    }
    if alg.as_deref() != Some(ALG) {
        return Err(profile("alg must be \"hmac-sha256\""));
    }
    let (Some(created), Some(key_id), Some(nonce)) = (created, key_id, nonce) else {
        return Err(profile(
            "created (an integer), keyid and nonce (strings) are required",
        ));
    };
    Ok(Params {
        created,
        key_id,
        nonce,
    })
}

fn mac(key: &PopKey, base: &str) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.0[..]).expect("any key length");
    mac.update(base.as_bytes());
    mac
}

impl PopKey {
    /// The `Signature-Input`, `Signature` and (with a body) `Content-Digest`
    /// fields of `message`. Refuses, as `InvalidArgument`, what the verifier
    /// would refuse: a bad nonce, a `created` past the limit, a key id or
    /// component value that is not printable ASCII.
    pub fn sign_rfc9421(&self, message: &Message<'_>, p: &SignParams<'_>) -> Result<Signed, Error> {
        let invalid = |what: &str| Error::InvalidArgument(what.to_owned());
        if !valid_nonce(p.nonce.as_bytes()) {
            return Err(invalid(&format!(
                "the nonce must be {NONCE_MIN_BYTES}–{NONCE_MAX_BYTES} bytes of visible ASCII (0x21–0x7E)"
            )));
        }
        if p.created_s > MAX_CREATED_S {
            return Err(invalid(&format!(
                "created must be at most {MAX_CREATED_S} s"
            )));
        }
        if p.key_id.is_empty() || p.key_id.len() > MAX_KEYID_BYTES || !printable(p.key_id) {
            return Err(invalid(&format!(
                "the key id must be 1–{MAX_KEYID_BYTES} bytes of printable ASCII"
            )));
        }
        let mut names = vec![METHOD];
        match p.target {
            Target::Uri => names.push(TARGET_URI),
            Target::PathAndQuery => names.extend([PATH, QUERY]),
        }
        let digest = (!message.body.is_empty()).then(|| content_digest(message.body));
        if digest.is_some() {
            names.push(CONTENT_DIGEST);
        }
        let items = names
            .iter()
            .map(|name| string_item(name).map(Item::new))
            .collect::<Result<Vec<_>, _>>()?;
        let mut parameters = Parameters::new();
        let created = i64::try_from(p.created_s).expect("at most MAX_CREATED_S");
        let created = sfv::Integer::try_from(created).expect("within sf-integer");
        parameters.insert(key("created").to_owned(), BareItem::Integer(created));
        parameters.insert(key("keyid").to_owned(), string_item(p.key_id)?);
        parameters.insert(key("nonce").to_owned(), string_item(p.nonce)?);
        parameters.insert(key("alg").to_owned(), string_item(ALG)?);
        let covered = Covered {
            components: names,
            params: InnerList::with_params(items, parameters),
        };
        let base = covered
            .base(message, digest.as_deref())
            .map_err(|_| invalid("the method, origin and target must be printable ASCII"))?;
        let tag: [u8; MAC_LEN] = mac(self, &base).finalize().into_bytes().into();
        let entry = ListEntry::InnerList(covered.params);
        let mut input = DictSerializer::new();
        input.members([(key(LABEL), &entry)]);
        let mut signature = DictSerializer::new();
        let _ = signature.bare_item(key(LABEL), &tag[..]);
        Ok(Signed {
            signature_input: input.finish().expect("one member"),
            signature: signature.finish().expect("one member"),
            content_digest: digest,
        })
    }

    /// Everything the server checks, in this order: the fields follow the
    /// profile (`Profile`), `keyid` is this session's id (`KeyId`), `created`
    /// is within the window (`Stale`), the nonce is well-formed (`BadNonce`),
    /// Content-Digest matches the body and the MAC matches (`BadMac`, in
    /// constant time), and only then, with a replay cache, the nonce is
    /// recorded for this session, as `verify_request` does.
    pub fn verify_rfc9421(
        &self,
        message: &Message<'_>,
        received: &Received<'_>,
        session_id: &str,
        checks: Checks<'_>,
    ) -> Result<(), Error> {
        let input = received
            .signature_input
            .ok_or(profile("Signature-Input is missing"))?;
        let signature = received.signature.ok_or(profile("Signature is missing"))?;
        let ListEntry::InnerList(list) = only_member(input, LABEL)? else {
            return Err(profile("Signature-Input's member must be an inner list"));
        };
        let tag = match only_member(signature, LABEL)? {
            ListEntry::Item(Item {
                bare_item: BareItem::ByteSequence(tag),
                params,
            }) if params.is_empty() => tag,
            _ => return Err(profile("Signature's member must be a byte sequence")),
        };
        let names = components(&list.items, !message.body.is_empty())?;
        let p = params(&list.params)?;
        if p.key_id != session_id {
            return Err(Error::KeyId);
        }
        // A negative `created` is as far outside any window as a huge one.
        let created_s = u64::try_from(p.created)
            .ok()
            .filter(|s| *s <= MAX_CREATED_S)
            .ok_or(Error::Stale)?;
        if (created_s * 1000).abs_diff(checks.now_ms) > checks.window_ms {
            return Err(Error::Stale);
        }
        if !valid_nonce(p.nonce.as_bytes()) {
            return Err(Error::BadNonce);
        }
        let digest = received.content_digest.map(|d| d.trim_matches([' ', '\t']));
        if names.contains(&CONTENT_DIGEST) {
            let field = digest.ok_or(profile("content-digest is covered but absent"))?;
            let sent = match only_member(field, DIGEST_ALG)? {
                ListEntry::Item(Item {
                    bare_item: BareItem::ByteSequence(d),
                    params,
                }) if params.is_empty() => d,
                _ => return Err(profile("Content-Digest's sha-256 must be a byte sequence")),
            };
            if sent[..] != Sha256::digest(message.body)[..] {
                return Err(Error::BadMac);
            }
        }
        let covered = Covered {
            components: names,
            params: list,
        };
        let base = covered.base(message, digest)?;
        mac(self, &base)
            .verify_slice(&tag)
            .map_err(|_| Error::BadMac)?;
        checks.record(p.nonce.as_bytes())
    }
}

/// The nonce a `Signature-Input` names, for a caller that keeps the replay
/// cache itself (shared by instances): ask it only once `verify_rfc9421`
/// returned `Ok` for these fields, so the nonce is one it checked.
pub fn signed_nonce(signature_input: &str) -> Option<String> {
    match only_member(signature_input, LABEL).ok()? {
        ListEntry::InnerList(list) => params(&list.params).ok().map(|p| p.nonce),
        ListEntry::Item(_) => None,
    }
}

/// The signature base a verifier rebuilds for `message` and these fields,
/// for documentation and the vectors (docs/pop-vectors.json).
pub fn signature_base(message: &Message<'_>, received: &Received<'_>) -> Result<String, Error> {
    let input = received
        .signature_input
        .ok_or(profile("Signature-Input is missing"))?;
    let ListEntry::InnerList(list) = only_member(input, LABEL)? else {
        return Err(profile("Signature-Input's member must be an inner list"));
    };
    let names = components(&list.items, !message.body.is_empty())?;
    let digest = received.content_digest.map(|d| d.trim_matches([' ', '\t']));
    Covered {
        components: names,
        params: list,
    }
    .base(message, digest)
}

#[cfg(test)]
#[path = "rfc9421_tests.rs"]
mod tests;
