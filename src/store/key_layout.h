#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "base/status.h"
#include "store/online_store.h"

namespace sluice::store {

// The versioned key and meta layout shared by every backend (documented in README.md). The
// layout version is part of every key ("s1/"), so a future layout can live beside this one and
// migrate it instead of misreading it.
//
//   value: "s1/v/" VIEW "/" ENTITY      ENTITY: the raw entity bytes, any byte allowed
//   meta:  "s1/m/" VIEW                 value: EncodeViewMeta
//   side:  "s1/x/" VIEW "/" NAME        value: opaque (SideEntry), e.g. a stream's offsets
//   part:  "s1/p/" VIEW "/" LEN ENTITY PART   LEN: the entity's byte count, 4 bytes big-endian
//
// A part key's entity length makes (entity, part) unambiguous whatever bytes either holds, and
// keeps one entity's parts together in key order.
// VIEW never contains '/' (ValidateViewName), so the first '/' after "s1/v/" ends it and no two
// (view, entity) pairs share a key, whatever bytes the entity holds. Keeping values and meta
// under different second components means a view named like a meta key cannot collide either.
inline constexpr std::string_view kLayoutPrefix = "s1/";
inline constexpr std::string_view kValuePrefix = "s1/v/";
inline constexpr std::string_view kMetaPrefix = "s1/m/";
inline constexpr std::string_view kSidePrefix = "s1/x/";
inline constexpr std::string_view kPartPrefix = "s1/p/";
inline constexpr std::size_t kMaxViewNameBytes = 200;

// OK if `view` is 1..kMaxViewNameBytes of [A-Za-z0-9_.-]. That is wider than project names
// (config::IsValidName) and narrow enough that a view is never ambiguous inside a key and never
// special in a Redis SCAN pattern.
base::Status ValidateViewName(std::string_view view);

// Precondition for all three: ValidateViewName(view) is OK.
std::string ValueKey(std::string_view view, std::string_view entity);
std::string ValuePrefix(std::string_view view);  // every value key of `view` starts with this
std::string MetaKey(std::string_view view);
std::string PartKeyBytes(std::string_view view, std::string_view entity, std::string_view part);
std::string PartPrefix(std::string_view view);  // every part key of `view` starts with this
// Precondition: ValidateViewName(view) and ValidateSideName(name) are OK.
std::string SideKey(std::string_view view, std::string_view name);
// OK if `name` is a valid side entry name (the rule of view names).
base::Status ValidateSideName(std::string_view name);

// Splits a value key back into its parts; kInvalidArgument if `key` is not one.
base::Result<StoreKey> ParseValueKey(std::string_view key);

// Meta values: a format byte (kMetaFormat) and then the fields in declaration order, strings as
// a 4-byte little-endian length and the bytes, integers as fixed-width little-endian.
inline constexpr unsigned char kMetaFormat = 1;
std::string EncodeViewMeta(const ViewMeta& meta);
// kCorruption naming `what` (the key, for messages) if `bytes` is not a meta value this version
// can read.
base::Result<ViewMeta> DecodeViewMeta(std::string_view bytes, std::string_view what);

}  // namespace sluice::store
