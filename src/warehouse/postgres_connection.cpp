#include "warehouse/postgres_connection.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <optional>

namespace sluice::warehouse {
namespace {

struct ConninfoCloser {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};
using Conninfo = std::unique_ptr<PQconninfoOption, ConninfoCloser>;

std::optional<std::string> GetEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

// Parses a connection string. libpq's parse error is deliberately dropped: it quotes the
// unparsed rest of the string, which may hold a password.
Conninfo ParseConninfo(const std::string& conninfo) {
  char* err = nullptr;
  Conninfo opts(PQconninfoParse(conninfo.c_str(), &err));
  if (err != nullptr) PQfreemem(err);
  return opts;
}

std::map<std::string, std::string> ConninfoValues(const std::string& conninfo) {
  std::map<std::string, std::string> values;
  Conninfo opts = ParseConninfo(conninfo);
  if (!opts) return values;
  for (const PQconninfoOption* o = opts.get(); o->keyword != nullptr; ++o) {
    if (o->val != nullptr && *o->val != '\0') values[o->keyword] = o->val;
  }
  return values;
}

// A value in a key=value connection string: single-quoted, with \ and ' escaped.
std::string QuoteConninfoValue(std::string_view v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string DescribeParts(const std::optional<std::string>& host, const std::string& port,
                          const std::optional<std::string>& database,
                          const std::optional<std::string>& user) {
  std::string out = host.value_or("default host") + ":" + (port.empty() ? "5432" : port) + "/" +
                    database.value_or("default database");
  if (user) out += " as " + *user;
  return out;
}

std::optional<std::string> Lookup(const std::map<std::string, std::string>& m, const char* key) {
  auto it = m.find(key);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

std::string DescribeConninfo(const std::string& conninfo) {
  auto v = ConninfoValues(conninfo);
  if (v.empty()) return "unparseable dsn";
  return DescribeParts(Lookup(v, "host"), Lookup(v, "port").value_or(""), Lookup(v, "dbname"),
                       Lookup(v, "user"));
}

}  // namespace

std::string ScrubPassword(std::string message, const std::string& conninfo) {
  auto password = Lookup(ConninfoValues(conninfo), "password");
  if (password) {
    for (size_t at = message.find(*password); at != std::string::npos;
         at = message.find(*password, at)) {
      message.replace(at, password->size(), "***");
      at += 3;
    }
  }
  while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
    message.pop_back();
  return message;
}

base::Result<std::string> ConnectionString(const config::ConnectionSpec& c) {
  if (c.dsn) {
    if (!ParseConninfo(*c.dsn)) {
      return base::InvalidArgument("the dsn is not a valid libpq connection string");
    }
    return *c.dsn;
  }
  if (c.dsn_env) {
    auto dsn = GetEnv(*c.dsn_env);
    if (!dsn || dsn->empty()) {
      return base::InvalidArgument("environment variable " + *c.dsn_env +
                                   " (dsn_env) is not set; it should hold the connection string");
    }
    if (!ParseConninfo(*dsn)) {
      return base::InvalidArgument("environment variable " + *c.dsn_env +
                                   " does not hold a valid libpq connection string");
    }
    return *dsn;
  }
  if (!c.host) return base::InvalidArgument("the connection needs a dsn, dsn_env or host");
  std::string out =
      "host=" + QuoteConninfoValue(*c.host) + " port=" + QuoteConninfoValue(std::to_string(c.port));
  if (c.database) out += " dbname=" + QuoteConninfoValue(*c.database);
  if (c.user) out += " user=" + QuoteConninfoValue(*c.user);
  if (c.password_env) {
    auto password = GetEnv(*c.password_env);
    if (!password) {
      return base::InvalidArgument("environment variable " + *c.password_env +
                                   " (password_env) is not set");
    }
    out += " password=" + QuoteConninfoValue(*password);
  }
  return out;
}

std::string DescribeConnection(const config::ConnectionSpec& c) {
  if (c.dsn) return "dsn " + DescribeConninfo(*c.dsn);
  if (c.dsn_env) {
    std::string out = "dsn from $" + *c.dsn_env;
    auto dsn = GetEnv(*c.dsn_env);
    if (dsn && !dsn->empty()) out += " (" + DescribeConninfo(*dsn) + ")";
    return out;
  }
  return DescribeParts(c.host, std::to_string(c.port), c.database, c.user);
}

base::Status PostgresError(const pg_conn* connection, const pg_result* result,
                           const std::string& conninfo, const std::string& prefix,
                           const std::string& peer) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = primary ? primary : PQerrorMessage(connection);
  if (result) {
    if (const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL)) {
      message += std::string(" (") + detail + ")";
    }
    if (const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT)) {
      message += std::string(" (hint: ") + hint + ")";
    }
  }
  const std::string code = state ? state : "";
  message = ScrubPassword(message, conninfo) + (code.empty() ? "" : " [SQLSTATE " + code + "]");
  if (PQstatus(connection) == CONNECTION_BAD || code.rfind("08", 0) == 0) {
    return base::Unavailable("lost the connection to " + peer + message);
  }
  if (code == "57014") return base::Timeout(prefix + message);  // statement timeout, cancel
  // 40: serialization failure/deadlock; 53: out of resources; 57P: shutdown, not ready yet.
  if (code.rfind("40", 0) == 0 || code.rfind("53", 0) == 0 || code.rfind("57P", 0) == 0) {
    return base::Unavailable(prefix + message);
  }
  // 42: syntax, unknown names, permissions; 22: bad values; 0A: unsupported feature;
  // 23: constraint violations; 21: cardinality.
  if (code.rfind("42", 0) == 0 || code.rfind("22", 0) == 0 || code.rfind("0A", 0) == 0 ||
      code.rfind("23", 0) == 0 || code.rfind("21", 0) == 0) {
    return base::InvalidArgument(prefix + message);
  }
  return base::Internal(prefix + message);
}

}  // namespace sluice::warehouse
