#include "store/redis_store.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "store/key_layout.h"

namespace sluice::store {
namespace {

// Idle connections kept for reuse; beyond this a returned connection is closed. Enough for a
// serving thread pool on a small machine; busier processes simply open more when needed.
constexpr std::size_t kMaxIdleConnections = 32;
// Keys asked of each SCAN while deleting a view.
constexpr std::string_view kScanCount = "1000";

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

// One command's arguments as hiredis wants them: pointers and lengths, binary-safe. The strings
// pointed to must outlive the call that sends the command.
class Args {
 public:
  Args& Add(std::string_view s) {
    argv_.push_back(s.data());
    lens_.push_back(s.size());
    return *this;
  }
  int size() const { return static_cast<int>(argv_.size()); }
  const char** argv() { return argv_.data(); }
  const std::size_t* lens() const { return lens_.data(); }

 private:
  std::vector<const char*> argv_;
  std::vector<std::size_t> lens_;
};

timeval ToTimeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

std::string_view ReplyText(const redisReply& r) {
  return std::string_view(r.str ? r.str : "", r.str ? r.len : 0);
}

// An error reply from the server, mapped by its leading error code.
base::Status ServerError(const redisReply& r, const std::string& what) {
  const std::string_view text = ReplyText(r);
  const std::string m = what + ": " + std::string(text);
  auto starts = [&](std::string_view code) { return text.substr(0, code.size()) == code; };
  if (starts("NOAUTH") || starts("WRONGPASS") || starts("NOPERM")) {
    return base::FailedPrecondition(m +
                                    " (set REDIS_PASSWORD, and REDIS_USERNAME for an ACL "
                                    "user, to credentials the server accepts)");
  }
  if (starts("LOADING") || starts("BUSY") || starts("TRYAGAIN") || starts("MASTERDOWN") ||
      starts("CLUSTERDOWN")) {
    return base::Unavailable(m);
  }
  if (starts("OOM")) return base::IoError(m + " (the server is out of memory: maxmemory)", true);
  if (starts("READONLY")) {
    return base::FailedPrecondition(m + " (this is a read-only replica; write to the primary)");
  }
  return base::IoError(m);
}

}  // namespace

RedisAuth RedisAuthFromEnvironment() {
  RedisAuth auth;
  if (const char* u = std::getenv("REDIS_USERNAME"); u && *u) auth.user = u;
  if (const char* p = std::getenv("REDIS_PASSWORD"); p && *p) auth.password = p;
  return auth;
}

namespace {

class RedisStore final : public OnlineStore {
 public:
  RedisStore(RedisEndpoint endpoint, RedisAuth auth, bool read_only, const StoreOptions& options)
      : endpoint_(std::move(endpoint)),
        auth_(std::move(auth)),
        read_only_(read_only),
        options_(options) {}

  // Connects once so that a wrong address, password or database is reported at open.
  base::Status Start() {
    SLUICE_ASSIGN_OR_RETURN(Context c, Connect());
    Release(std::move(c));
    return base::Status::Ok();
  }

  base::Status Write(const std::string& view,
                     const std::vector<std::pair<std::string, std::string>>& entity_values,
                     const ViewMeta& meta) override {
    return WriteWithSide(view, entity_values, meta, {});
  }

  base::Result<std::optional<std::string>> ReadSide(const std::string& view,
                                                    const std::string& name) override {
    SLUICE_RETURN_IF_ERROR(ValidateViewName(view));
    SLUICE_RETURN_IF_ERROR(ValidateSideName(name));
    const std::string what = "reading '" + name + "' of view '" + view + "' from " + Describe();
    // Args keeps views of its arguments: the key must outlive the pipeline call.
    const std::string key = Key(SideKey(view, name));
    std::vector<Args> commands(1);
    commands[0].Add("GET").Add(key);
    SLUICE_ASSIGN_OR_RETURN(auto replies, Pipeline(commands, what));
    const redisReply& r = *replies[0];
    if (r.type == REDIS_REPLY_NIL) return std::optional<std::string>();
    if (r.type == REDIS_REPLY_ERROR) return ServerError(r, what);
    if (r.type != REDIS_REPLY_STRING) return base::Internal(what + ": GET returned a non-string");
    return std::optional<std::string>(std::string(r.str, r.len));
  }

  base::Status WriteWithSide(const std::string& view,
                             const std::vector<std::pair<std::string, std::string>>& entity_values,
                             const ViewMeta& meta, const std::vector<SideEntry>& side) override {
    return WriteState(view, entity_values, {}, meta, side, /*replace=*/false);
  }

  base::Status WriteState(const std::string& view,
                          const std::vector<std::pair<std::string, std::string>>& entity_values,
                          const std::vector<PartWrite>& parts, const ViewMeta& meta,
                          const std::vector<SideEntry>& side, bool replace) override {
    if (!replace) return Apply(view, entity_values, parts, meta, side);
    SLUICE_RETURN_IF_ERROR(CheckWritable("write"));
    SLUICE_RETURN_IF_ERROR(ValidateViewName(view));
    // The view's keys the new content lacks are found first (SCAN) and removed inside the same
    // MULTI/EXEC as the new content, so a reader never finds an old entity beside the new meta
    // (a rebuilt generation of another definition read with the new plan).
    std::unordered_set<std::string> kept;
    kept.reserve(entity_values.size() + parts.size());
    for (const auto& ev : entity_values)
      kept.insert(Key(ValueKey(view, ev.first)));
    for (const auto& p : parts) {
      if (p.value) kept.insert(Key(PartKeyBytes(view, p.entity, p.part)));
    }
    const std::string what = "replacing view '" + view + "' in " + Describe();
    auto unkept = [&](std::string_view key) { return kept.count(std::string(key)) == 0; };
    std::vector<std::string> stale;
    SLUICE_RETURN_IF_ERROR(CollectMatching(Key(ValuePrefix(view)) + "*", what, unkept, &stale));
    SLUICE_RETURN_IF_ERROR(CollectMatching(Key(PartPrefix(view)) + "*", what, unkept, &stale));
    kept.clear();
    return Apply(view, entity_values, parts, meta, side, nullptr, &stale);
  }

  base::Status WriteStateIf(const std::string& view,
                            const std::vector<std::pair<std::string, std::string>>& entity_values,
                            const std::vector<PartWrite>& parts, const ViewMeta& meta,
                            const std::vector<SideEntry>& side,
                            const std::vector<SideExpectation>& expect) override {
    return Apply(view, entity_values, parts, meta, side, &expect);
  }

  base::Status Apply(const std::string& view,
                     const std::vector<std::pair<std::string, std::string>>& entity_values,
                     const std::vector<PartWrite>& parts, const ViewMeta& meta,
                     const std::vector<SideEntry>& side,
                     const std::vector<SideExpectation>* expect = nullptr,
                     const std::vector<std::string>* unlink = nullptr) {
    SLUICE_RETURN_IF_ERROR(CheckWritable("write"));
    SLUICE_RETURN_IF_ERROR(ValidateViewName(view));
    for (const SideEntry& e : side)
      SLUICE_RETURN_IF_ERROR(ValidateSideName(e.name));
    const std::string what = "writing view '" + view + "' to " + Describe();
    std::vector<std::string> keys;
    keys.reserve(entity_values.size());
    for (const auto& ev : entity_values)
      keys.push_back(Key(ValueKey(view, ev.first)));
    const std::string meta_key = Key(MetaKey(view));
    const std::string meta_value = EncodeViewMeta(meta);
    std::vector<std::string> side_keys;  // Args keeps views: the keys must outlive the pipeline
    side_keys.reserve(side.size());
    for (const SideEntry& e : side)
      side_keys.push_back(Key(SideKey(view, e.name)));
    std::vector<std::string> part_keys;
    part_keys.reserve(parts.size());
    for (const PartWrite& p : parts)
      part_keys.push_back(Key(PartKeyBytes(view, p.entity, p.part)));

    // MULTI, the MSETs, EXEC, sent in one go: the server applies the whole batch and the meta
    // as one transaction that no reader can see half of, and MSETs of bounded size keep any one
    // command (and the server's time inside it) small.
    const std::size_t per_command = std::max<std::size_t>(1, options_.max_keys_per_command);
    std::vector<Args> commands;
    commands.emplace_back().Add("MULTI");
    for (std::size_t i = 0; i < keys.size(); i += per_command) {
      Args& mset = commands.emplace_back();
      mset.Add("MSET");
      const std::size_t end = std::min(keys.size(), i + per_command);
      for (std::size_t j = i; j < end; ++j)
        mset.Add(keys[j]).Add(entity_values[j].second);
    }
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (parts[i].value) {
        commands.emplace_back().Add("SET").Add(part_keys[i]).Add(*parts[i].value);
      } else {
        commands.emplace_back().Add("DEL").Add(part_keys[i]);
      }
    }
    commands.emplace_back().Add("SET").Add(meta_key).Add(meta_value);
    for (std::size_t i = 0; i < side.size(); ++i)
      commands.emplace_back().Add("SET").Add(side_keys[i]).Add(side[i].value);
    if (unlink != nullptr) {
      for (std::size_t i = 0; i < unlink->size(); i += per_command) {
        Args& u = commands.emplace_back();
        u.Add("UNLINK");
        const std::size_t end = std::min(unlink->size(), i + per_command);
        for (std::size_t j = i; j < end; ++j)
          u.Add((*unlink)[j]);
      }
    }
    commands.emplace_back().Add("EXEC");

    const bool conditional = expect != nullptr && !expect->empty();
    std::vector<Reply> replies;
    if (conditional) {
      SLUICE_ASSIGN_OR_RETURN(replies, RunIf(view, commands, *expect, what));
    } else {
      SLUICE_ASSIGN_OR_RETURN(replies, Pipeline(commands, what));
    }
    // A command refused while queueing (wrong arity, OOM) says more than EXEC's EXECABORT.
    for (const auto& r : replies) {
      if (r->type == REDIS_REPLY_ERROR) return ServerError(*r, what);
    }
    const redisReply& exec = *replies.back();
    if (conditional && exec.type == REDIS_REPLY_NIL) {
      return base::FailedPrecondition(what +
                                      ": a side entry this writer expects changed while "
                                      "it wrote (the server refused the transaction)");
    }
    if (exec.type != REDIS_REPLY_ARRAY) {
      return base::IoError(what + ": the transaction was not executed (EXEC returned no results)");
    }
    for (std::size_t i = 0; i < exec.elements; ++i) {
      if (exec.element[i]->type == REDIS_REPLY_ERROR) return ServerError(*exec.element[i], what);
    }
    return base::Status::Ok();
  }

  base::Status Replace(const std::string& view,
                       const std::vector<std::pair<std::string, std::string>>& entity_values,
                       const ViewMeta& meta) override {
    return WriteState(view, entity_values, {}, meta, {}, /*replace=*/true);
  }

  base::Result<std::vector<std::optional<std::string>>> MultiGet(
      const std::string& view, const std::vector<std::string>& entities) override {
    SLUICE_RETURN_IF_ERROR(ValidateViewName(view));
    std::vector<std::string> keys;
    keys.reserve(entities.size());
    for (const auto& e : entities)
      keys.push_back(Key(ValueKey(view, e)));
    return GetKeys(view, keys);
  }

  base::Result<ViewValues> MultiGetWithMeta(const std::string& view,
                                            const std::vector<std::string>& entities) override {
    SLUICE_RETURN_IF_ERROR(ValidateViewName(view));
    std::vector<std::string> keys;
    keys.reserve(entities.size() + 1);
    for (const auto& e : entities)
      keys.push_back(Key(ValueKey(view, e)));
    return GetWithMeta(view, std::move(keys));
  }

  base::Result<ViewValues> MultiGetPartsWithMeta(const std::string& view,
                                                 const std::vector<PartKey>& parts) override {
    SLUICE_RETURN_IF_ERROR(ValidateViewName(view));
    std::vector<std::string> keys;
    keys.reserve(parts.size() + 1);
    for (const auto& p : parts)
      keys.push_back(Key(PartKeyBytes(view, p.entity, p.part)));
    return GetWithMeta(view, std::move(keys));
  }

  // `keys` (full Redis keys) and the view's meta in one MGET.
  base::Result<ViewValues> GetWithMeta(const std::string& view, std::vector<std::string> keys) {
    keys.push_back(Key(MetaKey(view)));
    // One MGET, atomic on the server: the meta of the same point as the values.
    SLUICE_ASSIGN_OR_RETURN(auto got, GetKeys(view, keys));
    ViewValues out;
    if (got.back()) {
      // On the request path: the store's name is added only to an error.
      auto meta = DecodeViewMeta(*got.back(), keys.back());
      if (!meta.ok()) return meta.status().WithContext(Describe());
      out.meta = std::move(*meta);
    }
    got.pop_back();
    out.values = std::move(got);
    return out;
  }

  base::Result<std::vector<std::optional<std::string>>> MultiGetParts(
      const std::string& view, const std::vector<PartKey>& parts) override {
    SLUICE_RETURN_IF_ERROR(ValidateViewName(view));
    std::vector<std::string> keys;
    keys.reserve(parts.size());
    for (const auto& p : parts)
      keys.push_back(Key(PartKeyBytes(view, p.entity, p.part)));
    return GetKeys(view, keys);
  }

  // One MGET of `keys` (full Redis keys).
  base::Result<std::vector<std::optional<std::string>>> GetKeys(
      const std::string& view, const std::vector<std::string>& keys) {
    std::vector<std::optional<std::string>> out(keys.size());
    if (keys.empty()) return out;
    const std::string what = "reading view '" + view + "' from " + Describe();
    std::vector<Args> commands(1);
    commands[0].Add("MGET");
    for (const auto& k : keys)
      commands[0].Add(k);
    SLUICE_ASSIGN_OR_RETURN(auto replies, Pipeline(commands, what));
    const redisReply& r = *replies[0];
    if (r.type == REDIS_REPLY_ERROR) return ServerError(r, what);
    if (r.type != REDIS_REPLY_ARRAY || r.elements != keys.size()) {
      return base::Internal(what + ": MGET returned an unexpected reply");
    }
    for (std::size_t i = 0; i < r.elements; ++i) {
      const redisReply& e = *r.element[i];
      if (e.type == REDIS_REPLY_STRING) {
        out[i].emplace(e.str, e.len);
      } else if (e.type != REDIS_REPLY_NIL) {
        return base::Internal(what + ": MGET returned a non-string value");
      }
    }
    return out;
  }

  base::Result<std::optional<ViewMeta>> Meta(const std::string& view) override {
    SLUICE_RETURN_IF_ERROR(ValidateViewName(view));
    const std::string what = "reading the meta of view '" + view + "' from " + Describe();
    const std::string key = Key(MetaKey(view));
    std::vector<Args> commands(1);
    commands[0].Add("GET").Add(key);
    SLUICE_ASSIGN_OR_RETURN(auto replies, Pipeline(commands, what));
    const redisReply& r = *replies[0];
    if (r.type == REDIS_REPLY_NIL) return std::optional<ViewMeta>();
    if (r.type == REDIS_REPLY_ERROR) return ServerError(r, what);
    if (r.type != REDIS_REPLY_STRING) return base::Internal(what + ": GET returned a non-string");
    SLUICE_ASSIGN_OR_RETURN(
        ViewMeta meta, DecodeViewMeta(std::string_view(r.str, r.len), key + " in " + Describe()));
    return std::optional<ViewMeta>(std::move(meta));
  }

  // Redis has no range delete: the meta goes first (one command), then SCAN walks the view's
  // keys and UNLINK frees them in the background on the server. Not atomic: readers may see a
  // view half deleted, which is why the meta (the "this view is materialized" mark) goes first.
  base::Status DeleteView(const std::string& view) override {
    SLUICE_RETURN_IF_ERROR(CheckWritable("delete a view"));
    SLUICE_RETURN_IF_ERROR(ValidateViewName(view));
    const std::string what = "deleting view '" + view + "' from " + Describe();
    {
      const std::string meta_key = Key(MetaKey(view));
      std::vector<Args> commands(1);
      commands[0].Add("DEL").Add(meta_key);
      SLUICE_ASSIGN_OR_RETURN(auto replies, Pipeline(commands, what));
      if (replies[0]->type == REDIS_REPLY_ERROR) return ServerError(*replies[0], what);
    }
    auto all = [](std::string_view) { return true; };
    SLUICE_RETURN_IF_ERROR(UnlinkMatching(Key(ValuePrefix(view)) + "*", what, all));
    return UnlinkMatching(Key(PartPrefix(view)) + "*", what, all);
  }

  // Every key matching `pattern` (SCAN) that `select` selects, appended to *keys.
  base::Status CollectMatching(const std::string& pattern, const std::string& what,
                               const std::function<bool(std::string_view)>& select,
                               std::vector<std::string>* keys) {
    return ScanMatching(pattern, what, [&](const redisReply& found) -> base::Status {
      for (std::size_t i = 0; i < found.elements; ++i) {
        const std::string_view key(found.element[i]->str, found.element[i]->len);
        if (select(key)) keys->emplace_back(key);
      }
      return base::Status::Ok();
    });
  }

  // Walks every key matching `pattern` (SCAN), a view's value or part prefix and "*", and
  // unlinks those `remove` selects. The view name holds no glob characters (ValidateViewName),
  // so the pattern is literal up to the final '*'.
  base::Status UnlinkMatching(const std::string& pattern, const std::string& what,
                              const std::function<bool(std::string_view)>& remove) {
    return ScanMatching(pattern, what, [&](const redisReply& found) -> base::Status {
      std::vector<Args> unlink(1);
      unlink[0].Add("UNLINK");
      bool any = false;
      for (std::size_t i = 0; i < found.elements; ++i) {
        const std::string_view key(found.element[i]->str, found.element[i]->len);
        if (!remove(key)) continue;
        unlink[0].Add(key);
        any = true;
      }
      if (!any) return base::Status::Ok();
      SLUICE_ASSIGN_OR_RETURN(auto unlinked, Pipeline(unlink, what));
      if (unlinked[0]->type == REDIS_REPLY_ERROR) return ServerError(*unlinked[0], what);
      return base::Status::Ok();
    });
  }

  // One SCAN pass over `pattern`: `visit` gets each reply's array of keys (an element of a
  // reply that must stay alive only during the call).
  base::Status ScanMatching(const std::string& pattern, const std::string& what,
                            const std::function<base::Status(const redisReply&)>& visit) {
    std::string cursor = "0";
    do {
      std::vector<Args> scan(1);
      scan[0].Add("SCAN").Add(cursor).Add("MATCH").Add(pattern).Add("COUNT").Add(kScanCount);
      SLUICE_ASSIGN_OR_RETURN(auto replies, Pipeline(scan, what));
      const redisReply& r = *replies[0];
      if (r.type == REDIS_REPLY_ERROR) return ServerError(r, what);
      if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 ||
          r.element[0]->type != REDIS_REPLY_STRING || r.element[1]->type != REDIS_REPLY_ARRAY) {
        return base::Internal(what + ": SCAN returned an unexpected reply");
      }
      cursor.assign(r.element[0]->str, r.element[0]->len);
      SLUICE_RETURN_IF_ERROR(visit(*r.element[1]));
    } while (cursor != "0");
    return base::Status::Ok();
  }

  std::string Describe() const override { return "redis at " + endpoint_.ToString(); }

 private:
  static std::string Key(std::string_view layout_key) {
    std::string k(kRedisNamespace);
    k.append(layout_key);
    return k;
  }

  base::Status CheckWritable(const std::string& what) const {
    if (!read_only_) return base::Status::Ok();
    return base::FailedPrecondition("cannot " + what + ": " + Describe() + " is open read-only");
  }

  // The Status for a connection whose context reports an error (it is unusable afterwards).
  base::Status ConnectionError(const redisContext& c, const std::string& what) const {
    const std::string detail = c.errstr[0] ? c.errstr : "unknown error";
    // hiredis reports a reply that did not arrive within the timeout as an I/O error carrying
    // EAGAIN's text (errno itself may have changed since).
    if (c.err == REDIS_ERR_IO && detail == std::strerror(EAGAIN)) {
      return base::Timeout(what + ": no reply within " +
                           std::to_string(options_.command_timeout.count()) + " ms");
    }
    if (c.err == REDIS_ERR_EOF) {
      return base::Unavailable(what + ": the server closed the connection");
    }
    return base::Unavailable(what + ": " + detail);
  }

  base::Result<Context> Connect() {
    const timeval connect_tv = ToTimeval(options_.connect_timeout);
    Context c(endpoint_.unix_socket.empty()
                  ? redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, connect_tv)
                  : redisConnectUnixWithTimeout(endpoint_.unix_socket.c_str(), connect_tv));
    const std::string what = "connecting to " + Describe();
    if (!c) return base::Internal(what + ": out of memory");
    if (c->err) return ConnectionError(*c, what);
    if (redisSetTimeout(c.get(), ToTimeval(options_.command_timeout)) != REDIS_OK) {
      return ConnectionError(*c, what);
    }
    std::vector<Args> setup;
    if (auth_.password) {
      Args& a = setup.emplace_back();
      a.Add("AUTH");
      if (auth_.user) a.Add(*auth_.user);
      a.Add(*auth_.password);
    }
    const std::string db = std::to_string(endpoint_.db);
    if (endpoint_.db != 0) setup.emplace_back().Add("SELECT").Add(db);
    // PING last: without a password on a server that wants one, this is what says NOAUTH.
    setup.emplace_back().Add("PING");
    SLUICE_ASSIGN_OR_RETURN(auto replies, RunOn(c.get(), setup, what));
    for (std::size_t i = 0; i < replies.size(); ++i) {
      if (replies[i]->type != REDIS_REPLY_ERROR) continue;
      if (std::string_view(setup[i].argv()[0]) == "SELECT") {
        return base::InvalidArgument(what + ": database " + db + ": " +
                                     std::string(ReplyText(*replies[i])));
      }
      return ServerError(*replies[i], what);
    }
    return c;
  }

  // Sends `commands` back to back and reads one reply per command: one round trip.
  base::Result<std::vector<Reply>> RunOn(redisContext* c, std::vector<Args>& commands,
                                         const std::string& what) const {
    for (auto& a : commands) {
      if (redisAppendCommandArgv(c, a.size(), a.argv(), a.lens()) != REDIS_OK) {
        return ConnectionError(*c, what);
      }
    }
    std::vector<Reply> replies;
    replies.reserve(commands.size());
    for (std::size_t i = 0; i < commands.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) return ConnectionError(*c, what);
      replies.emplace_back(static_cast<redisReply*>(raw));
    }
    return replies;
  }

  // RunOn with a pooled connection. A pooled connection may have died while idle (a server
  // restart, an idle timeout); then the commands run once more on a fresh one. Re-running is
  // safe for everything this store sends: reads, and writes of the same values.
  base::Result<std::vector<Reply>> Pipeline(std::vector<Args>& commands, const std::string& what) {
    for (int attempt = 0;; ++attempt) {
      Context c = TakeIdle();
      const bool reused = c != nullptr;
      if (!reused) {
        SLUICE_ASSIGN_OR_RETURN(c, Connect());
      }
      auto replies = RunOn(c.get(), commands, what);
      if (replies.ok()) {
        Release(std::move(c));
        return replies;
      }
      // The context is broken now and is dropped with `c`.
      const bool timed_out = replies.status().code() == base::StatusCode::kTimeout;
      if (!reused || timed_out || attempt > 0) return std::move(replies).status();
    }
  }

  // Runs the MULTI/EXEC `transaction` on one connection after WATCH of the side entries of
  // `expect` and a check of their values: the server then refuses the transaction (EXEC
  // replies nil) if one changed in between. A value that differs already fails here.
  base::Result<std::vector<Reply>> RunIf(const std::string& view, std::vector<Args>& transaction,
                                         const std::vector<SideExpectation>& expect,
                                         const std::string& what) {
    std::vector<std::string> keys;
    keys.reserve(expect.size());
    for (const SideExpectation& e : expect) {
      SLUICE_RETURN_IF_ERROR(ValidateSideName(e.name));
      keys.push_back(Key(SideKey(view, e.name)));
    }
    std::vector<Args> check(2);
    check[0].Add("WATCH");
    check[1].Add("MGET");
    for (const auto& k : keys) {
      check[0].Add(k);
      check[1].Add(k);
    }
    for (int attempt = 0;; ++attempt) {
      Context c = TakeIdle();
      const bool reused = c != nullptr;
      if (!reused) {
        SLUICE_ASSIGN_OR_RETURN(c, Connect());
      }
      auto checked = RunOn(c.get(), check, what);
      if (!checked.ok()) {
        // As Pipeline: a pooled connection that died while idle is replaced once.
        const bool timed_out = checked.status().code() == base::StatusCode::kTimeout;
        if (!reused || timed_out || attempt > 0) return std::move(checked).status();
        continue;
      }
      // On any refusal the connection (maybe still watching) is dropped with `c`.
      for (const auto& r : *checked) {
        if (r->type == REDIS_REPLY_ERROR) return ServerError(*r, what);
      }
      const redisReply& got = *(*checked)[1];
      if (got.type != REDIS_REPLY_ARRAY || got.elements != keys.size()) {
        return base::Internal(what + ": MGET returned an unexpected reply");
      }
      for (std::size_t i = 0; i < keys.size(); ++i) {
        const redisReply& e = *got.element[i];
        std::optional<std::string> now;
        if (e.type == REDIS_REPLY_STRING) now.emplace(e.str, e.len);
        if (now != expect[i].value) {
          return base::FailedPrecondition(what + ": '" + expect[i].name +
                                          "' is not what this writer expects");
        }
      }
      // Not re-run on a broken connection: the transaction may have been applied.
      auto replies = RunOn(c.get(), transaction, what);
      if (replies.ok()) Release(std::move(c));
      return replies;
    }
  }

  Context TakeIdle() {
    std::lock_guard lock(pool_mu_);
    if (idle_.empty()) return nullptr;
    Context c = std::move(idle_.back());
    idle_.pop_back();
    return c;
  }

  void Release(Context c) {
    std::lock_guard lock(pool_mu_);
    if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(c));
  }

  const RedisEndpoint endpoint_;
  const RedisAuth auth_;
  const bool read_only_;
  const StoreOptions options_;
  std::mutex pool_mu_;
  std::vector<Context> idle_;
};

void IgnoreSigpipeIfDefault() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      signal(SIGPIPE, SIG_IGN);
    }
  });
}

}  // namespace

base::Result<std::unique_ptr<OnlineStore>> OpenRedisStore(const RedisEndpoint& endpoint,
                                                          const RedisAuth& auth, bool read_only,
                                                          const StoreOptions& options) {
  IgnoreSigpipeIfDefault();
  auto store = std::make_unique<RedisStore>(endpoint, auth, read_only, options);
  SLUICE_RETURN_IF_ERROR(store->Start());
  return std::unique_ptr<OnlineStore>(std::move(store));
}

}  // namespace sluice::store
