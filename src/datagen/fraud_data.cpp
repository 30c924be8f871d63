#include "datagen/fraud_data.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "base/time.h"
#include "datagen/buffered_writer.h"
#include "datagen/random.h"
#include "warehouse/duckdb_database.h"

namespace sluice::datagen {
namespace {

using base::Status;

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr std::int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
constexpr std::int64_t kMicrosPerDay = 24 * kMicrosPerHour;
constexpr std::int64_t kTransactionsPerUser = 50;
constexpr std::int64_t kMinUsers = 20;
constexpr double kTargetFraudRate = 0.015;
constexpr std::int64_t kProgressEveryRows = 1 << 16;
// Late rows start only once event time has advanced this far, so none precede kStartMicros.
constexpr std::int64_t kNoLateBeforeMicros = kStartMicros + kMaxLateSeconds * kMicrosPerSecond;

// Independent random streams, so that (for example) the users do not change when the number of
// transactions does.
enum Stream : std::uint64_t { kUsersStream = 1, kMerchantStream, kTxnStream, kLateStream };

struct Country {
  std::string_view code;
  std::string_view currency;
  int weight;
};
constexpr Country kCountries[] = {
    {"US", "USD", 35}, {"GB", "GBP", 12}, {"DE", "EUR", 12}, {"FR", "EUR", 10}, {"ES", "EUR", 7},
    {"IT", "EUR", 6},  {"NL", "EUR", 5},  {"CA", "CAD", 6},  {"IE", "EUR", 3},  {"AU", "AUD", 4},
};
constexpr int kNumCountries = static_cast<int>(std::size(kCountries));

struct Segment {
  std::string_view name;
  int weight;
  double amount_factor;
};
constexpr Segment kSegments[] = {
    {"standard", 60, 1.0}, {"premium", 15, 2.2}, {"business", 10, 2.8}, {"student", 15, 0.5}};

// Fraud-only merchants draw their category from fraud_weight: what stolen cards buy.
struct Category {
  std::string_view name;
  int normal_weight;
  int fraud_weight;
  double amount_factor;
};
constexpr Category kCategories[] = {
    {"grocery", 22, 0, 1.0},         {"restaurant", 20, 0, 0.8},  {"fuel", 10, 0, 1.3},
    {"fashion", 10, 0, 1.6},         {"electronics", 6, 40, 3.0}, {"travel", 4, 10, 4.0},
    {"entertainment", 8, 0, 0.9},    {"health", 7, 0, 1.2},       {"utilities", 5, 0, 1.8},
    {"online_services", 6, 25, 0.6}, {"gift_cards", 2, 25, 1.5},
};
constexpr std::uint8_t kCashCategory = static_cast<std::uint8_t>(std::size(kCategories));
constexpr double kCashAmountFactor = 2.0;

enum Channel : std::uint8_t { kPos, kOnline, kAtm };
constexpr std::string_view kChannelNames[] = {"pos", "online", "atm"};

// Relative transaction intensity per UTC hour for normal activity: quiet nights, busy evenings.
constexpr double kHourWeights[24] = {0.15, 0.10, 0.08, 0.08, 0.10, 0.25, 0.5, 0.8,
                                     1.1,  1.3,  1.3,  1.3,  1.6,  1.5,  1.3, 1.3,
                                     1.3,  1.5,  1.7,  1.6,  1.4,  1.1,  0.7, 0.35};

enum FraudKind : std::uint8_t { kBurst, kNewMerchant, kNight };

struct FraudKindSpec {
  int weight;    // share of incidents
  int min_rows;  // rows per incident
  int max_rows;
  double min_mult;  // amount multiplier over the user's usual scale
  double max_mult;
};
constexpr FraudKindSpec kFraudKinds[] = {
    {20, 5, 15, 3.0, 8.0},  // burst
    {50, 1, 3, 1.5, 4.0},   // new merchant
    {30, 2, 5, 2.0, 5.0},   // night
};

template <typename T, size_t N, typename WeightOf>
size_t PickWeighted(Rng& rng, const T (&items)[N], WeightOf weight_of) {
  std::uint64_t total = 0;
  for (const T& item : items)
    total += static_cast<std::uint64_t>(weight_of(item));
  std::uint64_t r = rng.Below(total);
  for (size_t i = 0; i < N; ++i) {
    const auto w = static_cast<std::uint64_t>(weight_of(items[i]));
    if (r < w) return i;
    r -= w;
  }
  return N - 1;
}

struct User {
  double amount_scale_cents = 0;  // the user's typical spend; log-normal across users
  std::uint8_t country = 0;
  std::uint8_t favourites = 0;  // how many favourite merchants
  std::uint16_t home_atm = 0;
};

struct Event {
  std::int64_t micros = 0;
  std::uint32_t user = 0;  // index; user_id is index + 1
  std::uint32_t merchant = 0;
  std::uint8_t category = 0;
  std::uint8_t country = 0;
  std::uint8_t channel = 0;
  bool is_fraud = false;
  FraudKind kind = kBurst;
  std::int64_t amount_cents = 0;
};

// One compromised-card episode: emits its rows one at a time in event-time order.
struct Incident {
  std::int64_t next_micros = 0;
  std::uint64_t sequence = 0;  // tie-break, so the heap order is total and deterministic
  std::uint32_t user = 0;
  FraudKind kind = kBurst;
  std::uint8_t remaining = 0;
  std::uint8_t country = 0;
  bool emitted = false;
};
struct IncidentLater {
  bool operator()(const Incident& a, const Incident& b) const {
    return a.next_micros != b.next_micros ? a.next_micros > b.next_micros : a.sequence > b.sequence;
  }
};

void AppendInt(std::string& out, std::int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

void AppendHex(std::string& out, std::uint64_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[16];
  for (int i = digits - 1; i >= 0; --i) {
    buf[i] = kHex[v & 0xF];
    v >>= 4;
  }
  out.append(buf, static_cast<size_t>(digits));
}

void AppendAmount(std::string& out, std::int64_t cents) {
  AppendInt(out, cents / 100);
  const auto rest = static_cast<int>(cents % 100);
  out += '.';
  out += static_cast<char>('0' + rest / 10);
  out += static_cast<char>('0' + rest % 10);
}

void AppendTwoDigits(std::string& out, std::int64_t v) {
  out += static_cast<char>('0' + v / 10);
  out += static_cast<char>('0' + v % 10);
}

std::string FormatDate(std::int64_t days) {
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  base::CivilFromDays(days, y, m, d);
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

// ISO-8601 UTC at second precision; the date part is cached because rows arrive in time order.
class TimestampFormatter {
 public:
  void Append(std::string& out, std::int64_t micros) {
    const std::int64_t seconds = micros / kMicrosPerSecond;
    const std::int64_t day = seconds / 86400;
    if (day != cached_day_) {
      cached_day_ = day;
      date_ = FormatDate(day) + "T";
    }
    const std::int64_t in_day = seconds % 86400;
    out += date_;
    AppendTwoDigits(out, in_day / 3600);
    out += ':';
    AppendTwoDigits(out, in_day / 60 % 60);
    out += ':';
    AppendTwoDigits(out, in_day % 60);
    out += 'Z';
  }

 private:
  std::int64_t cached_day_ = -1;
  std::string date_;
};

// Removes temporary files unless the run completed.
class PartialFiles {
 public:
  ~PartialFiles() {
    std::error_code ec;
    for (const auto& p : paths_)
      std::filesystem::remove(p, ec);
  }
  std::filesystem::path Add(std::filesystem::path final_path) {
    std::filesystem::path partial = final_path;
    partial += ".partial";
    paths_.push_back(partial);
    return partial;
  }
  Status Commit(const std::filesystem::path& partial, const std::filesystem::path& final_path) {
    std::error_code ec;
    std::filesystem::rename(partial, final_path, ec);
    if (ec) {
      return base::IoError(fmt::format("cannot rename '{}' to '{}': {}", partial.string(),
                                       final_path.string(), ec.message()));
    }
    std::erase(paths_, partial);
    return Status::Ok();
  }

 private:
  std::vector<std::filesystem::path> paths_;
};

base::Result<std::uint64_t> FileSize(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return base::IoError(fmt::format("cannot stat '{}': {}", path.string(), ec.message()));
  return static_cast<std::uint64_t>(size);
}

class Generator {
 public:
  explicit Generator(const FraudDataOptions& options)
      : options_(options),
        users_rng_(options.seed, kUsersStream),
        txn_rng_(options.seed, kTxnStream),
        late_rng_(options.seed, kLateStream),
        merchant_key_(Mix64(options.seed ^ 0x6d65726368616e74ULL)),
        atm_key_(Mix64(options.seed ^ 0x61746d0000000000ULL)),
        txn_key_(Mix64(options.seed ^ 0x74786e0000000000ULL)),
        favourite_key_(Mix64(options.seed ^ 0x6661760000000000ULL)) {
    num_users_ = std::max(kMinUsers, options.transactions / kTransactionsPerUser);
    num_merchants_ = std::max<std::int64_t>(100, num_users_ / 4);
    num_fraud_merchants_ = std::max<std::int64_t>(20, num_merchants_ / 50);
    atms_per_country_ = std::clamp<std::int64_t>(num_users_ / 100, 10, 5000);

    double hour_sum = 0;
    for (double w : kHourWeights)
      hour_sum += w;
    for (int h = 0; h < 24; ++h)
      hour_intensity_[h] = kHourWeights[h] * 24.0 / hour_sum;

    double rows_per_incident = 0;
    int kind_weight_sum = 0;
    for (const auto& k : kFraudKinds) {
      rows_per_incident += k.weight * (k.min_rows + k.max_rows) / 2.0;
      kind_weight_sum += k.weight;
    }
    rows_per_incident /= kind_weight_sum;
    // Each normal row starts an incident with probability p, so fraud rows / normal rows is
    // p * rows_per_incident; solve for the target share of all rows.
    incident_probability_ = kTargetFraudRate / ((1.0 - kTargetFraudRate) * rows_per_incident);
    const double normal_rows = static_cast<double>(options.transactions) * (1.0 - kTargetFraudRate);
    mean_gap_micros_ = static_cast<double>(kSpanDays * kMicrosPerDay) / normal_rows;
  }

  std::int64_t num_users() const { return num_users_; }
  std::int64_t num_merchants() const {
    return num_merchants_ + num_fraud_merchants_ + atms_per_country_ * kNumCountries;
  }

  // Draws the users and merchants and writes users.csv.
  Status WriteUsers(BufferedWriter& out) {
    users_.resize(static_cast<size_t>(num_users_));
    cumulative_activity_.resize(users_.size());
    const std::int64_t first_signup = base::DaysFromCivil(2019, 1, 1);
    const std::int64_t last_signup = base::DaysFromCivil(2023, 12, 31);
    std::uint64_t activity_total = 0;
    out.Append("user_id,signup_date,country,age,segment\n");
    for (size_t i = 0; i < users_.size(); ++i) {
      User& u = users_[i];
      u.country = static_cast<std::uint8_t>(
          PickWeighted(users_rng_, kCountries, [](const Country& c) { return c.weight; }));
      const size_t segment =
          PickWeighted(users_rng_, kSegments, [](const Segment& s) { return s.weight; });
      std::int64_t age =
          18 + static_cast<std::int64_t>((users_rng_.Uniform01() + users_rng_.Uniform01()) * 31.0);
      if (kSegments[segment].name == "student") age = users_rng_.Between(18, 26);
      const std::int64_t signup = users_rng_.Between(first_signup, last_signup);
      // Median spend about 28.00, spread so that typical amounts vary ~10x across users.
      u.amount_scale_cents =
          Exp(Log(2800.0) + 0.55 * users_rng_.Normal()) * kSegments[segment].amount_factor;
      u.favourites = static_cast<std::uint8_t>(users_rng_.Between(3, 8));
      u.home_atm = static_cast<std::uint16_t>(
          users_rng_.Below(static_cast<std::uint64_t>(atms_per_country_)));
      const double activity = Exp(0.8 * users_rng_.Normal());
      activity_total += 1 + static_cast<std::uint64_t>(activity * 1000.0);
      cumulative_activity_[i] = activity_total;

      std::string& b = out.buffer();
      AppendInt(b, static_cast<std::int64_t>(i) + 1);
      b += ',';
      b += FormatDate(signup);
      b += ',';
      b += kCountries[u.country].code;
      b += ',';
      AppendInt(b, age);
      b += ',';
      b += kSegments[segment].name;
      b += '\n';
      SLUICE_RETURN_IF_ERROR(out.MaybeFlush());
    }

    Rng merchant_rng(options_.seed, kMerchantStream);
    merchant_category_.resize(static_cast<size_t>(num_merchants_ + num_fraud_merchants_));
    for (size_t m = 0; m < merchant_category_.size(); ++m) {
      const bool fraud_only = static_cast<std::int64_t>(m) >= num_merchants_;
      merchant_category_[m] = static_cast<std::uint8_t>(
          PickWeighted(merchant_rng, kCategories, [fraud_only](const Category& c) {
            return fraud_only ? c.fraud_weight : c.normal_weight;
          }));
    }
    next_normal_micros_ = kStartMicros + NormalGap(kStartMicros);
    return Status::Ok();
  }

  // The next row in event-time order (before lateness is applied).
  Event Next() {
    if (!incidents_.empty() && incidents_.top().next_micros <= next_normal_micros_) {
      return NextFraud();
    }
    Event e = NextNormal();
    if (txn_rng_.Chance(incident_probability_)) StartIncident(e.micros);
    next_normal_micros_ += NormalGap(next_normal_micros_);
    return e;
  }

  // Whether row `row` is this block's late row; if so, the seconds it lags the maximum.
  std::int64_t LateLagMicros(std::int64_t row, std::int64_t max_micros) {
    if (row % kLateBlockRows == 0) {
      late_position_ =
          static_cast<std::int64_t>(late_rng_.Below(static_cast<std::uint64_t>(kLateBlockRows)));
      late_lag_seconds_ = late_rng_.Between(kMinLateSeconds, kMaxLateSeconds);
    }
    if (row % kLateBlockRows != late_position_ || max_micros < kNoLateBeforeMicros) return 0;
    return late_lag_seconds_ * kMicrosPerSecond;
  }

  void AppendTxnId(std::string& out, std::int64_t row) const {
    out += "tx_";
    AppendHex(out, Mix64(static_cast<std::uint64_t>(row) + txn_key_), 16);
  }

  void AppendMerchantId(std::string& out, const Event& e) const {
    if (e.channel == kAtm) {
      out += "atm_";
      AppendHex(out, Permute32(e.merchant, atm_key_), 8);
    } else {
      out += "m_";
      AppendHex(out, Permute32(e.merchant, merchant_key_), 8);
    }
  }

  std::int64_t incidents_started() const { return incidents_started_; }
  std::int64_t incidents_emitted() const { return incidents_emitted_; }

 private:
  std::int64_t NormalGap(std::int64_t at_micros) {
    const auto hour = static_cast<int>((at_micros / kMicrosPerHour) % 24);
    const double gap = txn_rng_.Exponential() * mean_gap_micros_ / hour_intensity_[hour];
    return static_cast<std::int64_t>(gap);
  }

  std::uint32_t PickUserByActivity() {
    const std::uint64_t r = txn_rng_.Below(cumulative_activity_.back());
    const auto it = std::upper_bound(cumulative_activity_.begin(), cumulative_activity_.end(), r);
    return static_cast<std::uint32_t>(it - cumulative_activity_.begin());
  }

  std::uint32_t Favourite(std::uint32_t user, std::uint64_t k) const {
    const std::uint64_t h = Mix64(favourite_key_ ^ ((static_cast<std::uint64_t>(user) << 4) | k));
    return static_cast<std::uint32_t>(
        (static_cast<unsigned __int128>(h) * static_cast<std::uint64_t>(num_merchants_)) >> 64);
  }

  std::uint8_t OtherCountry(std::uint8_t home) {
    auto c = static_cast<std::uint8_t>(txn_rng_.Below(kNumCountries - 1));
    return c >= home ? static_cast<std::uint8_t>(c + 1) : c;
  }

  static std::int64_t ToCents(double cents) {
    return std::max<std::int64_t>(100, static_cast<std::int64_t>(cents + 0.5));
  }
  // Cash comes in multiples of 20.
  static std::int64_t ToCashCents(double cents) {
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(cents / 2000.0 + 0.5)) * 2000;
  }

  Event NextNormal() {
    Event e;
    e.micros = next_normal_micros_;
    e.user = PickUserByActivity();
    const User& u = users_[e.user];
    const std::uint64_t channel_draw = txn_rng_.Below(100);
    e.channel = channel_draw < 62 ? kPos : channel_draw < 92 ? kOnline : kAtm;
    e.country = txn_rng_.Chance(0.03) ? OtherCountry(u.country) : u.country;
    if (e.channel == kAtm) {
      const std::uint64_t atm = e.country == u.country
                                    ? u.home_atm
                                    : txn_rng_.Below(static_cast<std::uint64_t>(atms_per_country_));
      e.merchant = static_cast<std::uint32_t>(e.country * atms_per_country_ +
                                              static_cast<std::int64_t>(atm));
      e.category = kCashCategory;
      e.amount_cents =
          ToCashCents(u.amount_scale_cents * kCashAmountFactor * Exp(0.4 * txn_rng_.Normal()));
    } else {
      e.merchant = txn_rng_.Chance(0.85) ? Favourite(e.user, txn_rng_.Below(u.favourites))
                                         : static_cast<std::uint32_t>(txn_rng_.Below(
                                               static_cast<std::uint64_t>(num_merchants_)));
      e.category = merchant_category_[e.merchant];
      e.amount_cents = ToCents(u.amount_scale_cents * kCategories[e.category].amount_factor *
                               Exp(0.45 * txn_rng_.Normal()));
    }
    return e;
  }

  void StartIncident(std::int64_t now) {
    Incident in;
    in.kind = static_cast<FraudKind>(
        PickWeighted(txn_rng_, kFraudKinds, [](const FraudKindSpec& k) { return k.weight; }));
    const FraudKindSpec& spec = kFraudKinds[in.kind];
    in.user = static_cast<std::uint32_t>(txn_rng_.Below(users_.size()));
    in.remaining = static_cast<std::uint8_t>(txn_rng_.Between(spec.min_rows, spec.max_rows));
    in.country =
        txn_rng_.Chance(0.6) ? OtherCountry(users_[in.user].country) : users_[in.user].country;
    const std::int64_t next_midnight = (now / kMicrosPerDay + 1) * kMicrosPerDay;
    auto uniform_micros = [&](std::int64_t lo, std::int64_t hi) {
      return txn_rng_.Between(lo, hi);
    };
    switch (in.kind) {
      case kBurst:
        in.next_micros = txn_rng_.Chance(0.5)
                             ? next_midnight + uniform_micros(0, 4 * kMicrosPerHour)
                             : now + uniform_micros(5 * kMicrosPerMinute, 6 * kMicrosPerHour);
        break;
      case kNewMerchant:
        in.next_micros = now + uniform_micros(10 * kMicrosPerMinute, 12 * kMicrosPerHour);
        break;
      case kNight:
        // Late enough gaps (<= 20 min, <= 4 of them) still end before 05:00.
        in.next_micros =
            next_midnight + uniform_micros(0, 3 * kMicrosPerHour + 30 * kMicrosPerMinute);
        break;
    }
    in.sequence = incidents_started_++;
    incidents_.push(in);
  }

  Event NextFraud() {
    Incident in = incidents_.top();
    incidents_.pop();
    if (!in.emitted) {
      in.emitted = true;
      ++incidents_emitted_;
    }
    const FraudKindSpec& spec = kFraudKinds[in.kind];
    const User& u = users_[in.user];
    Event e;
    e.micros = in.next_micros;
    e.user = in.user;
    e.is_fraud = true;
    e.kind = in.kind;
    e.country = in.country;
    const std::uint64_t channel_draw = txn_rng_.Below(100);
    switch (in.kind) {
      case kBurst:
        e.channel = channel_draw < 80 ? kOnline : channel_draw < 90 ? kPos : kAtm;
        break;
      case kNewMerchant:
        e.channel = channel_draw < 85 ? kOnline : kPos;
        break;
      case kNight:
        e.channel = channel_draw < 70 ? kOnline : channel_draw < 90 ? kAtm : kPos;
        break;
    }
    const double mult = txn_rng_.Uniform(spec.min_mult, spec.max_mult);
    if (e.channel == kAtm) {
      // A machine in the fraudster's country, almost never the user's own.
      e.merchant = static_cast<std::uint32_t>(
          e.country * atms_per_country_ +
          static_cast<std::int64_t>(txn_rng_.Below(static_cast<std::uint64_t>(atms_per_country_))));
      e.category = kCashCategory;
      e.amount_cents = ToCashCents(u.amount_scale_cents * kCashAmountFactor * mult);
    } else {
      const double fraud_only_share = in.kind == kNewMerchant ? 1.0 : in.kind == kNight ? 0.7 : 0.5;
      e.merchant =
          txn_rng_.Chance(fraud_only_share)
              ? static_cast<std::uint32_t>(num_merchants_ +
                                           static_cast<std::int64_t>(txn_rng_.Below(
                                               static_cast<std::uint64_t>(num_fraud_merchants_))))
              : static_cast<std::uint32_t>(
                    txn_rng_.Below(static_cast<std::uint64_t>(num_merchants_)));
      e.category = merchant_category_[e.merchant];
      e.amount_cents = ToCents(u.amount_scale_cents * mult * kCategories[e.category].amount_factor *
                               Exp(0.3 * txn_rng_.Normal()));
    }

    if (--in.remaining > 0) {
      switch (in.kind) {
        case kBurst:
          in.next_micros += txn_rng_.Between(10, 60) * kMicrosPerSecond;
          break;
        case kNewMerchant:
          in.next_micros += txn_rng_.Between(20 * kMicrosPerMinute, 3 * kMicrosPerHour);
          break;
        case kNight:
          in.next_micros += txn_rng_.Between(2, 20) * kMicrosPerMinute;
          break;
      }
      incidents_.push(in);
    }
    return e;
  }

  const FraudDataOptions& options_;
  Rng users_rng_;
  Rng txn_rng_;
  Rng late_rng_;
  std::uint64_t merchant_key_;
  std::uint64_t atm_key_;
  std::uint64_t txn_key_;
  std::uint64_t favourite_key_;

  std::int64_t num_users_ = 0;
  std::int64_t num_merchants_ = 0;
  std::int64_t num_fraud_merchants_ = 0;
  std::int64_t atms_per_country_ = 0;
  std::array<double, 24> hour_intensity_{};
  double incident_probability_ = 0;
  double mean_gap_micros_ = 0;

  std::vector<User> users_;
  std::vector<std::uint64_t> cumulative_activity_;
  std::vector<std::uint8_t> merchant_category_;

  std::int64_t next_normal_micros_ = 0;
  std::priority_queue<Incident, std::vector<Incident>, IncidentLater> incidents_;
  std::int64_t incidents_started_ = 0;
  std::int64_t incidents_emitted_ = 0;
  std::int64_t late_position_ = -1;
  std::int64_t late_lag_seconds_ = 0;
};

std::string_view CategoryName(std::uint8_t category) {
  return category == kCashCategory ? std::string_view("cash") : kCategories[category].name;
}

Status ValidateOptions(const FraudDataOptions& options) {
  if (options.transactions < kMinTransactions || options.transactions > kMaxTransactions) {
    return base::InvalidArgument(fmt::format("transactions must be between {} and {}, got {}",
                                             kMinTransactions, kMaxTransactions,
                                             options.transactions));
  }
  if (options.out_dir.empty()) return base::InvalidArgument("out_dir must not be empty");
  if (!options.csv && !options.jsonl && !options.parquet) {
    return base::InvalidArgument("choose at least one transactions format (csv, jsonl, parquet)");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec || !std::filesystem::is_directory(options.out_dir)) {
    return base::IoError(fmt::format("cannot create output directory '{}': {}",
                                     options.out_dir.string(),
                                     ec ? ec.message() : "a file of that name exists"));
  }
  return Status::Ok();
}

Status ConvertCsvToParquet(const std::filesystem::path& csv, const std::filesystem::path& parquet) {
  // One thread keeps row groups, and so the file's bytes, identical from run to run.
  warehouse::DuckDb::Options db_options;
  db_options.threads = 1;
  db_options.memory_limit = "1GB";
  SLUICE_ASSIGN_OR_RETURN(warehouse::DuckDb db, warehouse::DuckDb::Open(":memory:", db_options));
  const std::string sql = fmt::format(
      "COPY (SELECT * FROM read_csv({}, header = true, delim = ',', quote = '\"', "
      "auto_detect = false, columns = {{'txn_id': 'VARCHAR', 'user_id': 'BIGINT', "
      "'merchant_id': 'VARCHAR', 'merchant_category': 'VARCHAR', 'amount': 'DOUBLE', "
      "'currency': 'VARCHAR', 'country': 'VARCHAR', 'channel': 'VARCHAR', "
      "'ts': 'TIMESTAMP'}})) TO {} (FORMAT parquet, COMPRESSION zstd)",
      warehouse::QuoteLiteral(csv.string()), warehouse::QuoteLiteral(parquet.string()));
  return db.Execute(sql).WithContext("converting transactions to Parquet");
}

}  // namespace

base::Result<FraudDataSummary> GenerateFraudData(const FraudDataOptions& options,
                                                 ProgressCallback progress) {
  SLUICE_RETURN_IF_ERROR(ValidateOptions(options));
  const std::filesystem::path& dir = options.out_dir;
  PartialFiles partials;
  FraudDataSummary summary;
  Generator gen(options);
  summary.users = gen.num_users();
  summary.merchants = gen.num_merchants();

  const std::filesystem::path users_path = dir / "users.csv";
  const std::filesystem::path users_partial = partials.Add(users_path);
  {
    SLUICE_ASSIGN_OR_RETURN(BufferedWriter users, BufferedWriter::Create(users_partial));
    SLUICE_RETURN_IF_ERROR(gen.WriteUsers(users));
    SLUICE_RETURN_IF_ERROR(users.Close());
  }

  // Parquet is converted from the CSV, so the CSV is written even when only Parquet is wanted.
  const std::filesystem::path csv_path = dir / "transactions.csv";
  const std::filesystem::path jsonl_path = dir / "transactions.jsonl";
  const std::filesystem::path parquet_path = dir / "transactions.parquet";
  const std::filesystem::path labels_path = dir / "labels.csv";
  const std::filesystem::path csv_partial = partials.Add(csv_path);
  const std::filesystem::path jsonl_partial = partials.Add(jsonl_path);
  const std::filesystem::path parquet_partial = partials.Add(parquet_path);
  const std::filesystem::path labels_partial = partials.Add(labels_path);
  const bool need_csv = options.csv || options.parquet;

  std::optional<BufferedWriter> csv;
  std::optional<BufferedWriter> jsonl;
  if (need_csv) {
    SLUICE_ASSIGN_OR_RETURN(csv, BufferedWriter::Create(csv_partial));
    csv->Append(
        "txn_id,user_id,merchant_id,merchant_category,amount,currency,country,channel,ts\n");
  }
  if (options.jsonl) {
    SLUICE_ASSIGN_OR_RETURN(jsonl, BufferedWriter::Create(jsonl_partial));
  }
  SLUICE_ASSIGN_OR_RETURN(BufferedWriter labels, BufferedWriter::Create(labels_partial));
  labels.Append("txn_id,user_id,ts,is_fraud\n");

  // Each row's fields are rendered once into these and copied into the writers.
  std::string txn_id, merchant_id, amount, ts;
  TimestampFormatter ts_formatter;
  std::int64_t max_micros = kStartMicros;
  summary.min_ts_micros = std::numeric_limits<std::int64_t>::max();
  for (std::int64_t row = 0; row < options.transactions; ++row) {
    Event e = gen.Next();
    const std::int64_t lag = gen.LateLagMicros(row, max_micros);
    if (lag > 0) {
      // Seconds precision in the files: lag from the max's whole second keeps the written
      // lateness within the documented bounds.
      e.micros = (max_micros / kMicrosPerSecond) * kMicrosPerSecond - lag;
      ++summary.late_transactions;
    } else {
      max_micros = std::max(max_micros, e.micros);
    }
    summary.min_ts_micros =
        std::min(summary.min_ts_micros, e.micros / kMicrosPerSecond * kMicrosPerSecond);
    summary.max_ts_micros =
        std::max(summary.max_ts_micros, e.micros / kMicrosPerSecond * kMicrosPerSecond);
    if (e.is_fraud) {
      ++summary.fraud_transactions;
      switch (e.kind) {
        case kBurst:
          ++summary.burst_fraud;
          break;
        case kNewMerchant:
          ++summary.new_merchant_fraud;
          break;
        case kNight:
          ++summary.night_fraud;
          break;
      }
    }

    txn_id.clear();
    gen.AppendTxnId(txn_id, row);
    merchant_id.clear();
    gen.AppendMerchantId(merchant_id, e);
    amount.clear();
    AppendAmount(amount, e.amount_cents);
    ts.clear();
    ts_formatter.Append(ts, e.micros);
    const std::int64_t user_id = static_cast<std::int64_t>(e.user) + 1;
    const std::string_view category = CategoryName(e.category);
    const std::string_view currency = kCountries[e.country].currency;
    const std::string_view country = kCountries[e.country].code;
    const std::string_view channel = kChannelNames[e.channel];

    if (csv) {
      std::string& b = csv->buffer();
      b += txn_id;
      b += ',';
      AppendInt(b, user_id);
      b += ',';
      b += merchant_id;
      b += ',';
      b += category;
      b += ',';
      b += amount;
      b += ',';
      b += currency;
      b += ',';
      b += country;
      b += ',';
      b += channel;
      b += ',';
      b += ts;
      b += '\n';
      SLUICE_RETURN_IF_ERROR(csv->MaybeFlush());
    }
    if (jsonl) {
      std::string& b = jsonl->buffer();
      b += R"({"txn_id":")";
      b += txn_id;
      b += R"(","user_id":)";
      AppendInt(b, user_id);
      b += R"(,"merchant_id":")";
      b += merchant_id;
      b += R"(","merchant_category":")";
      b += category;
      b += R"(","amount":)";
      b += amount;
      b += R"(,"currency":")";
      b += currency;
      b += R"(","country":")";
      b += country;
      b += R"(","channel":")";
      b += channel;
      b += R"(","ts":")";
      b += ts;
      b += "\"}\n";
      SLUICE_RETURN_IF_ERROR(jsonl->MaybeFlush());
    }
    {
      std::string& b = labels.buffer();
      b += txn_id;
      b += ',';
      AppendInt(b, user_id);
      b += ',';
      b += ts;
      b += e.is_fraud ? ",true\n" : ",false\n";
      SLUICE_RETURN_IF_ERROR(labels.MaybeFlush());
    }
    if (progress && (row + 1) % kProgressEveryRows == 0) progress(row + 1, options.transactions);
  }
  if (progress) progress(options.transactions, options.transactions);
  summary.transactions = options.transactions;
  summary.fraud_incidents = gen.incidents_emitted();

  if (csv) SLUICE_RETURN_IF_ERROR(csv->Close());
  if (jsonl) SLUICE_RETURN_IF_ERROR(jsonl->Close());
  SLUICE_RETURN_IF_ERROR(labels.Close());
  if (options.parquet) SLUICE_RETURN_IF_ERROR(ConvertCsvToParquet(csv_partial, parquet_partial));

  auto commit = [&](const std::filesystem::path& partial, const std::filesystem::path& final_path,
                    std::int64_t rows) -> Status {
    SLUICE_RETURN_IF_ERROR(partials.Commit(partial, final_path));
    SLUICE_ASSIGN_OR_RETURN(std::uint64_t bytes, FileSize(final_path));
    summary.files.push_back({final_path, rows, bytes});
    return Status::Ok();
  };
  SLUICE_RETURN_IF_ERROR(commit(users_partial, users_path, summary.users));
  if (options.csv) SLUICE_RETURN_IF_ERROR(commit(csv_partial, csv_path, summary.transactions));
  if (options.jsonl)
    SLUICE_RETURN_IF_ERROR(commit(jsonl_partial, jsonl_path, summary.transactions));
  if (options.parquet) {
    SLUICE_RETURN_IF_ERROR(commit(parquet_partial, parquet_path, summary.transactions));
  }
  SLUICE_RETURN_IF_ERROR(commit(labels_partial, labels_path, summary.transactions));
  return summary;
}

}  // namespace sluice::datagen
