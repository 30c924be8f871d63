#include "connectors/kafka_message_reader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "connectors/kafka_consumer.h"

namespace sluice::connectors {
namespace {

config::SourceSpec Source() {
  config::SourceSpec s;
  s.name = "tx";
  s.type = config::SourceType::kKafka;
  s.columns = {{"user_id", types::LogicalType::kString, false},
               {"ts", types::LogicalType::kTimestamp, false},
               {"amount", types::LogicalType::kDouble, true},
               {"n", types::LogicalType::kInt64, true},
               {"ok", types::LogicalType::kBool, true},
               {"day", types::LogicalType::kDate, true}};
  return s;
}

TEST(KafkaMessageReaderTest, TypedRows) {
  KafkaMessageReader reader(Source());
  types::Batch rows = reader.NewBatch();
  EXPECT_EQ(reader.Append(R"({"user_id":"u1","ts":"2024-03-01T12:00:00Z","amount":12,"n":3,)"
                          R"("ok":true,"day":"2024-03-02"})",
                          rows),
            std::nullopt);
  EXPECT_EQ(reader.Append(R"({"user_id":"u2","ts":"2024-03-01 12:00:01.5","amount":null})", rows),
            std::nullopt);
  ASSERT_EQ(rows.num_rows(), 2U);
  EXPECT_EQ(rows.column(0).GetString(1), "u2");
  EXPECT_EQ(rows.column(1).GetTimestamp(0), 1709294400000000);
  EXPECT_EQ(rows.column(1).GetTimestamp(1), 1709294401500000);
  EXPECT_DOUBLE_EQ(rows.column(2).GetDouble(0), 12.0);
  EXPECT_FALSE(rows.column(2).IsValid(1));
  EXPECT_EQ(rows.column(3).GetInt64(0), 3);
  EXPECT_TRUE(rows.column(4).GetBool(0));
  EXPECT_EQ(rows.column(5).GetDate(0), 19784);
  EXPECT_FALSE(rows.column(5).IsValid(1));
}

TEST(KafkaMessageReaderTest, BadMessagesAreQuarantinedWithAReasonAndAddNoRow) {
  KafkaMessageReader reader(Source());
  types::Batch rows = reader.NewBatch();
  const std::map<std::string, std::string> cases = {
      {"{not json", "not JSON"},
      {"[1,2]", "not a JSON object (got a list)"},
      {R"({"ts":"2024-03-01"})", "missing required field 'user_id'"},
      {R"({"user_id":null,"ts":"2024-03-01"})", "field 'user_id' is null but not nullable"},
      {R"({"user_id":"u","ts":"2024-03-01","amount":"12"})",
       "field 'amount': expected a number, got a string"},
      {R"({"user_id":"u","ts":"2024-03-01","n":1.5})",
       "field 'n': expected an integer, got a number"},
      {R"({"user_id":"u","ts":"2024-03-01","n":18446744073709551615})",
       "field 'n': 18446744073709551615 does not fit a 64-bit integer"},
      {R"({"user_id":"u","ts":12})",
       "field 'ts': expected an ISO-8601 time string, got an integer"},
      {R"({"user_id":"u","ts":"2024-03-01","day":"2024-03-01T01:00:00Z"})",
       "field 'day': expected a date, got a time"},
      {R"({"user_id":"u","ts":"2024-03-01","extra":1})", "undeclared field 'extra'"},
  };
  for (const auto& [payload, reason] : cases) {
    auto why = reader.Append(payload, rows);
    ASSERT_TRUE(why.has_value()) << payload;
    EXPECT_EQ(*why, reason) << payload;
  }
  // The amount was read before the bad n: nothing of that message may remain.
  EXPECT_EQ(reader.Append(R"({"user_id":"u","ts":"2024-13-01"})", rows).has_value(), true);
  EXPECT_EQ(rows.num_rows(), 0U);
  for (size_t c = 0; c < rows.num_columns(); ++c)
    EXPECT_EQ(rows.column(c).size(), 0U);
}

TEST(KafkaMessageReaderTest, ExtraFieldsAllowedUnlessFail) {
  config::SourceSpec s = Source();
  s.extra_columns = config::ExtraColumns::kWarn;
  KafkaMessageReader reader(s);
  types::Batch rows = reader.NewBatch();
  EXPECT_EQ(reader.Append(R"({"user_id":"u","ts":"2024-03-01","extra":1})", rows), std::nullopt);
  EXPECT_EQ(rows.num_rows(), 1U);
}

TEST(KafkaMessageReaderTest, EscapesRepeatedKeysAndNumberEdges) {
  KafkaMessageReader reader(Source());
  types::Batch rows = reader.NewBatch();
  // Escaped keys match declared names; escapes and surrogate pairs decode to UTF-8; a repeated
  // key's last value counts, even when an earlier one had the wrong type.
  EXPECT_EQ(reader.Append("\xEF\xBB\xBF {\"\\u0075ser_id\":\"a\\u00e9\\ud83d\\ude00\\n\\\"\","
                          "\"ts\":\"2024-03-01\",\"n\":\"x\",\"n\":-9223372036854775808,"
                          "\"amount\":-0,\"ok\":1,\"ok\":false}\r\n",
                          rows),
            std::nullopt);
  EXPECT_EQ(reader.Append(R"({"user_id":"b","ts":"2024-03-01","amount":100000000000000000000,)"
                          R"("n":9223372036854775807})",
                          rows),
            std::nullopt);
  ASSERT_EQ(rows.num_rows(), 2U);
  EXPECT_EQ(rows.column(0).GetString(0), "a\xC3\xA9\xF0\x9F\x98\x80\n\"");
  EXPECT_EQ(rows.column(3).GetInt64(0), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(rows.column(3).GetInt64(1), std::numeric_limits<std::int64_t>::max());
  EXPECT_FALSE(std::signbit(rows.column(2).GetDouble(0)));  // -0 is the integer 0
  EXPECT_EQ(rows.column(2).GetDouble(1), 1e20);
  EXPECT_FALSE(rows.column(4).GetBool(0));
}

TEST(KafkaMessageReaderTest, StrictJsonGrammar) {
  config::SourceSpec s = Source();
  s.extra_columns = config::ExtraColumns::kWarn;
  KafkaMessageReader reader(s);
  types::Batch rows = reader.NewBatch();
  const std::string ok = R"("user_id":"u","ts":"2024-03-01")";
  for (const std::string& bad :
       std::vector<std::string>{"",
                                "   ",
                                "{" + ok + ",}",
                                "{" + ok + "} x",
                                "{" + ok + "}{}",
                                "{" + ok,
                                "{" + ok + ",\"n\":01}",
                                "{" + ok + ",\"n\":1.}",
                                "{" + ok + ",\"n\":-}",
                                "{" + ok + ",\"amount\":1e400}",
                                "{" + ok + ",\"amount\":NaN}",
                                "{" + ok + ",\"e\":tru}",
                                "{" + ok + ",\"e\":[1,]}",
                                "{" + ok + ",\"e\":{\"a\"}}",
                                "{" + ok + ",'e':1}",
                                "{" + ok + ",\"e\":\"\\x\"}",
                                "{" + ok + ",\"e\":\"\\ud800\"}",
                                "{" + ok + ",\"e\":\"\\udc00\"}",
                                "{" + ok + ",\"e\":\"\xC0\xAF\"}",
                                "{" + ok + ",\"e\":\"\xED\xA0\x80\"}",
                                "{" + ok + ",\"e\":\"tab\there\"}",
                                "{" + ok + std::string("}\0", 2),
                                "\xEF\xBB{" + ok + "}",
                                "{" + ok + ",\"e\":" + std::string(100000, '[') + "}"}) {
    auto why = reader.Append(bad, rows);
    ASSERT_TRUE(why.has_value()) << bad.substr(0, 80);
    EXPECT_EQ(*why, "not JSON") << bad.substr(0, 80);
  }
  EXPECT_EQ(rows.num_rows(), 0U);
  // Deep nesting inside a field that is not declared is read without recursion.
  EXPECT_EQ(
      reader.Append(
          "{" + ok + ",\"e\":" + std::string(100000, '[') + std::string(100000, ']') + "}", rows),
      std::nullopt);
  auto wrong = reader.Append("{" + ok + ",\"amount\":[[{\"a\":[true,null,\"]\"]}]]}", rows);
  ASSERT_TRUE(wrong.has_value());
  EXPECT_EQ(*wrong, "field 'amount': expected a number, got a list");
  EXPECT_EQ(rows.num_rows(), 1U);
}

TEST(KafkaMessageReaderTest, TheSmallestUndeclaredKeyIsNamed) {
  KafkaMessageReader reader(Source());
  auto why = reader.Parse(R"({"zeta":1,"user_id":"u","beta":2,"ts":"2024-03-01","gamma":3})");
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, "undeclared field 'beta'");
}

TEST(KafkaMessageReaderTest, ParseHoldsTheRowForTimeAndAppend) {
  KafkaMessageReader reader(Source());
  types::Batch rows = reader.NewBatch();
  ASSERT_EQ(reader.Parse(R"({"user_id":"u","ts":"2024-03-01T00:00:01Z","day":"2024-03-02"})"),
            std::nullopt);
  EXPECT_EQ(reader.TimeMicros(1), 1709251201000000);
  EXPECT_EQ(reader.TimeMicros(5), 1709337600000000);  // a date as its midnight
  reader.AppendParsed(rows);
  ASSERT_EQ(reader.Parse(R"({"user_id":"v","ts":"2024-03-01"})"), std::nullopt);
  EXPECT_EQ(reader.TimeMicros(5), std::nullopt);
  reader.AppendParsed(rows);
  ASSERT_EQ(rows.num_rows(), 2U);
  EXPECT_EQ(rows.column(0).GetString(0), "u");
  EXPECT_EQ(rows.column(0).GetString(1), "v");
  EXPECT_FALSE(rows.column(5).IsValid(1));
}

// Strings are passed over 8 bytes at a time up to the first byte that needs a look: a quote,
// an escape, a control or a non-ASCII byte at every position of a long string is still seen.
TEST(KafkaMessageReaderTest, EveryByteOfALongStringIsChecked) {
  KafkaMessageReader reader(Source());
  types::Batch rows = reader.NewBatch();
  const std::string plain = "abcdefghijklmnopqrstuvwxyz0123";
  size_t good = 0;
  for (size_t at = 0; at <= plain.size(); ++at) {
    const std::string head = plain.substr(0, at), tail = plain.substr(at);
    auto message = [&](const std::string& text) {
      return R"({"user_id":")" + text + R"(","ts":"2024-03-01"})";
    };
    // Decoded: an escape, a two- and a four-byte UTF-8 sequence.
    for (const auto& [text, want] : std::vector<std::pair<std::string, std::string>>{
             {head + "\\n" + tail, head + "\n" + tail},
             {head + "\\\"" + tail, head + "\"" + tail},
             {head + "\xC3\xA9" + tail, head + "\xC3\xA9" + tail},
             {head + "\xF0\x9F\x98\x80" + tail, head + "\xF0\x9F\x98\x80" + tail},
             {head + "\x7F" + tail, head + "\x7F" + tail}}) {
      ASSERT_EQ(reader.Append(message(text), rows), std::nullopt) << at;
      EXPECT_EQ(rows.column(0).GetString(good++), want) << at;
    }
    // Not JSON: a raw control byte, a lone continuation byte, an overlong form, a string cut
    // off by the end of the message.
    for (const std::string& text :
         {head + "\t" + tail, head + std::string(1, '\0') + tail, head + "\x80" + tail,
          head + "\xC0\xAF" + tail, head + "\x1F" + tail}) {
      EXPECT_EQ(reader.Append(message(text), rows), "not JSON") << at;
    }
    EXPECT_EQ(reader.Append(R"({"ts":"2024-03-01","user_id":")" + head, rows), "not JSON") << at;
  }
  EXPECT_EQ(rows.num_rows(), good);
}

// Keys spelled as the next declared name are matched byte for byte; anything longer, shorter or
// escaped is read as a key and looked up (or named as undeclared).
TEST(KafkaMessageReaderTest, KeysNearADeclaredNameAreNotTakenForIt) {
  KafkaMessageReader reader(Source());
  EXPECT_EQ(*reader.Parse(R"({"user_idx":"u","user_id":"v","ts":"2024-03-01"})"),
            "undeclared field 'user_idx'");
  EXPECT_EQ(*reader.Parse(R"({"user_i":"u","user_id":"v","ts":"2024-03-01"})"),
            "undeclared field 'user_i'");
  EXPECT_EQ(*reader.Parse(R"({"user_id":"v","ts":"2024-03-01","user_id ":1})"),
            "undeclared field 'user_id '");
  EXPECT_EQ(reader.Parse(R"({"user_id":"v","ts":"2024-03-01","user_id)"), "not JSON");
  EXPECT_EQ(reader.Parse(R"({"user_id":"v","ts":"2024-03-01","user_id")"), "not JSON");
  types::Batch rows = reader.NewBatch();
  ASSERT_EQ(reader.Append(R"({"us\u0065r_id":"u","t\u0073":"2024-03-01","ts":"2024-03-02"})", rows),
            std::nullopt);
  EXPECT_EQ(rows.column(0).GetString(0), "u");
  EXPECT_EQ(rows.column(1).GetTimestamp(0), 1709337600000000);  // the last "ts" counts
  // A declared name that needs an escape in JSON is matched after unescaping.
  config::SourceSpec s = Source();
  s.columns.push_back({"a\"b", types::LogicalType::kInt64, true});
  KafkaMessageReader quoted(s);
  types::Batch more = quoted.NewBatch();
  ASSERT_EQ(quoted.Append(R"({"user_id":"u","ts":"2024-03-01","a\"b":7})", more), std::nullopt);
  EXPECT_EQ(more.column(6).GetInt64(0), 7);
}

TEST(KafkaPropertiesTest, EnvironmentReferencesExpandAndNeverLeakValues) {
  const EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "PW") return std::string("s3cret");
    return std::nullopt;
  };
  EXPECT_EQ(*ExpandEnvReferences("user:${PW}:${PW}", "p", env), "user:s3cret:s3cret");
  EXPECT_EQ(*ExpandEnvReferences("plain", "p", env), "plain");
  auto missing = ExpandEnvReferences("${NOPE}", "source 'tx', property 'sasl.password'", env);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "source 'tx', property 'sasl.password': environment variable NOPE is not set");

  config::SourceSpec s = Source();
  s.brokers = "b:1";
  s.topic = "t";
  s.properties = {{"sasl.password", "${PW}"}};
  auto options = KafkaConsumer::OptionsFor(s, "g", env);
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->properties.at("sasl.password"), "s3cret");
  // A property librdkafka does not know is reported by name; its value never appears.
  options->properties = {{"no.such.property", "s3cret"}};
  auto consumer = KafkaConsumer::Open(*options);
  ASSERT_FALSE(consumer.ok());
  EXPECT_NE(consumer.status().message().find("no.such.property"), std::string::npos);
  EXPECT_EQ(consumer.status().message().find("s3cret"), std::string::npos);
}

}  // namespace
}  // namespace sluice::connectors
