#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "engine/stream_cursor.h"
#include "store/online_store.h"

namespace sluice::engine {

// Fencing of the workers of a consumer group (docs/streaming.md, "Scale-out"). A worker writes
// a view's states only if the stored cursor of every partition it writes is still the one it
// last wrote or read (store::OnlineStore::WriteStateIf): partition cursors move in a chain of
// compare-and-set writes, so a worker that lost a partition without noticing (it stalled past
// the group's session timeout) cannot overwrite what the partition's new owner wrote.

// What the side entries of the partitions in `writing` must hold for a write of `writing` by a
// worker whose last committed (or, on arrival, read) cursor is `committed`: that partition's
// cursor encoded as it is stored, or no entry where `committed` has none.
std::vector<store::SideExpectation> CursorExpectations(const std::string& source,
                                                       const StreamCursor& committed,
                                                       const StreamCursor& writing);

// The error for a write refused by the fence (kFailedPrecondition from WriteStateIf): says
// that the group gave the partitions away and the worker stops; other errors pass unchanged.
base::Status FencedOut(const base::Status& refused, const std::string& view,
                       const std::string& topic);

}  // namespace sluice::engine
