#include <gtest/gtest.h>

#include <string>

#include "pgcopy/binary.h"

namespace tether::pgcopy {
namespace {

TEST(ParseIsoTimestamp, CanonicalFormsOnly) {
  EXPECT_EQ(parse_iso_timestamp("2000-01-01 00:00:00+00", true), 0);
  EXPECT_EQ(parse_iso_timestamp("2018-12-20 10:11:12+00", true), 598615872000000);
  EXPECT_EQ(parse_iso_timestamp("2018-12-20T10:11:12Z", true), 598615872000000);
  EXPECT_EQ(parse_iso_timestamp("1999-12-31 23:59:59.5-01", true), 3599500000);
  EXPECT_EQ(parse_iso_timestamp("2024-02-29 12:00:00.123456+05:30", true), 762503400123456);
  EXPECT_EQ(parse_iso_timestamp("2024-02-29 12:00:00.123456+0530", true), 762503400123456);
  EXPECT_EQ(parse_iso_timestamp("0001-01-01 00:00:00+00", true), -63082281600000000);
  EXPECT_EQ(parse_iso_timestamp("2018-12-20 10:11:12", false), 598615872000000);
  // Everything else is left to the server: no offset (depends on TimeZone), an offset on a
  // timestamp without time zone (ignored by PostgreSQL), sub-microsecond rounding, leap
  // seconds, invalid dates, other spellings.
  for (const char* s : {"2018-12-20 10:11:12", "2018-12-20 10:11:12.1234567+00", "2018-12-20 10:11:60+00",
                        "2019-02-29 00:00:00+00", "2018-13-01 00:00:00+00", "2018-12-20 24:00:00+00",
                        "0000-01-01 00:00:00+00", "2018-12-20 10:11:12 +00", "2018-12-20 10:11:12+16",
                        "2018-12-20 10:11:12+00:60", "20181220 101112+00", "epoch", "infinity",
                        "2018-12-20 10:11:12.+00", "2018-12-20 10:11:12+00 BC"})
    EXPECT_FALSE(parse_iso_timestamp(s, true)) << s;
  EXPECT_FALSE(parse_iso_timestamp("2018-12-20 10:11:12+00", false));
}

std::string be(uint64_t v, int bytes) {
  std::string s;
  for (int i = bytes - 1; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

const std::string kHeader = std::string("PGCOPY\n\377\r\n\0", 11) + be(0, 4) + be(0, 4);
const std::string kTrailer = be(0xffff, 2);

TEST(BinaryEncoder, EncodesRecordsWithQuotesAndNulls) {
  BinaryEncoder enc({ColumnKind::kUuid, ColumnKind::kInt4, ColumnKind::kTimestamptz, ColumnKind::kText}, ',', '"', '"',
                    "");
  std::string out;
  ASSERT_TRUE(enc.encode("0102030405060708090A0b0c0d0e0f10,-7,2000-01-01 00:00:00Z,\"a,\"\"b\"\"\nc\"\n", &out) ==
              false)
      << "uuid without hyphens is left to the server";
  ASSERT_TRUE(enc.encode("01020304-0506-0708-090A-0b0c0d0e0f10,-7,2000-01-01 00:00:00Z,\"a,\"\"b\"\"\nc\"\n"
                         "01020304-0506-0708-090a-0b0c0d0e0f10,,,\"\"",
                         &out));
  std::string uuid("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16);
  std::string want = kHeader;
  want += be(4, 2) + be(16, 4) + uuid + be(4, 4) + be(static_cast<uint32_t>(-7), 4) + be(8, 4) + be(0, 8) + be(7, 4) +
          "a,\"b\"\nc";
  want += be(4, 2) + be(16, 4) + uuid + be(0xffffffff, 4) + be(0xffffffff, 4) + be(0, 4);
  want += kTrailer;
  EXPECT_EQ(out, want) << "an unquoted empty field is NULL, a quoted one an empty string";
}

TEST(BinaryEncoder, LeavesAnythingUnusualToTheServer) {
  BinaryEncoder enc({ColumnKind::kInt2, ColumnKind::kText}, ',', '"', '"', "NULL");
  std::string out;
  EXPECT_TRUE(enc.encode("1,x\n-32768,NULL\n", &out));
  BinaryEncoder tabs({ColumnKind::kInt2, ColumnKind::kText}, '\t', '"', '"', "");
  EXPECT_TRUE(tabs.encode("1\ta,b\n", &out));
  EXPECT_EQ(out.substr(kHeader.size()), be(2, 2) + be(2, 4) + be(1, 2) + be(3, 4) + "a,b" + kTrailer);
  for (const char* bad : {"32768,x\n", " 1,x\n", "1,x,y\n", "1\n", "1,x\r\n", "+1,x\n", "0x1,x\n", "\"1,x\n"})
    EXPECT_FALSE(enc.encode(bad, &out)) << bad;
  // The end-of-data marker: PostgreSQL stops reading there, so the encoder must not load it.
  BinaryEncoder text({ColumnKind::kText}, ',', '"', '"', "");
  for (const char* marker : {"\\.\n", "a\n\\.\n", "a\n\\.\r\n"}) EXPECT_FALSE(text.encode(marker, &out)) << marker;
  EXPECT_TRUE(text.encode("\\.x\n\"\\.\"\n", &out));
}

}  // namespace
}  // namespace tether::pgcopy
