#include "policies/validators.h"

#include "gtest/gtest.h"

namespace warden::policies {
namespace {

TEST(Validators, LuhnAcceptsValidAndRejectsOffByOne) {
  EXPECT_TRUE(LuhnValid("4111 1111 1111 1111"));
  EXPECT_TRUE(LuhnValid("79927398713"));
  EXPECT_FALSE(LuhnValid("79927398710"));
  EXPECT_FALSE(LuhnValid(""));
}

TEST(Validators, CreditCardNeedsKnownPrefixLengthAndLuhn) {
  EXPECT_TRUE(CreditCardValid("4111-1111-1111-1111"));   // Visa
  EXPECT_TRUE(CreditCardValid("5500 0000 0000 0004"));   // Mastercard
  EXPECT_TRUE(CreditCardValid("378282246310005"));       // Amex
  EXPECT_TRUE(CreditCardValid("6011111111111117"));      // Discover
  EXPECT_FALSE(CreditCardValid("4111111111111112"));     // Luhn fails
  EXPECT_FALSE(CreditCardValid("9111111111111111"));     // Unknown prefix
  EXPECT_FALSE(CreditCardValid("37828224631000"));       // Amex needs 15 digits
  EXPECT_FALSE(CreditCardValid("41111"));
}

TEST(Validators, IbanChecksCountryLengthAndMod97) {
  EXPECT_TRUE(IbanValid("DE89 3704 0044 0532 0130 00"));
  EXPECT_TRUE(IbanValid("gb82west12345698765432"));
  EXPECT_FALSE(IbanValid("DE89 3704 0044 0532 0130 01"));  // Checksum
  EXPECT_FALSE(IbanValid("DE89 3704 0044 0532 0130"));     // Length for DE
  EXPECT_FALSE(IbanValid("D189 3704 0044 0532 0130 00"));
  EXPECT_FALSE(IbanValid("DE89-3704"));
}

TEST(Validators, UsSsnExcludesInvalidRanges) {
  EXPECT_TRUE(UsSsnValid("536-22-1234"));
  EXPECT_FALSE(UsSsnValid("000-22-1234"));
  EXPECT_FALSE(UsSsnValid("666-22-1234"));
  EXPECT_FALSE(UsSsnValid("900-22-1234"));
  EXPECT_FALSE(UsSsnValid("536-00-1234"));
  EXPECT_FALSE(UsSsnValid("536-22-0000"));
  EXPECT_FALSE(UsSsnValid("078-05-1120"));  // The famous wallet-card number.
}

TEST(Validators, Ipv4RejectsBigOctetsAndLeadingZeros) {
  EXPECT_TRUE(Ipv4Valid("192.168.1.20"));
  EXPECT_TRUE(Ipv4Valid("0.0.0.0"));
  EXPECT_FALSE(Ipv4Valid("256.1.1.1"));
  EXPECT_FALSE(Ipv4Valid("01.1.1.1"));
  EXPECT_FALSE(Ipv4Valid("1.1.1"));
}

TEST(Validators, DateAcceptsCommonOrdersWithPlausibleYears) {
  EXPECT_TRUE(DateValid("1990-07-21"));
  EXPECT_TRUE(DateValid("21.07.1990"));
  EXPECT_TRUE(DateValid("07/21/1990"));
  EXPECT_FALSE(DateValid("1990-13-40"));
  EXPECT_FALSE(DateValid("12/03/1850"));
  EXPECT_FALSE(DateValid("1990-07"));
}

TEST(Validators, EntropySeparatesRandomFromRepetitive) {
  EXPECT_DOUBLE_EQ(ShannonEntropy("aaaaaaaa"), 0.0);
  EXPECT_DOUBLE_EQ(ShannonEntropy("abababab"), 1.0);
  EXPECT_GT(ShannonEntropy("Zx8#Qp2!Lm9@Rt5$"), 3.5);
  EXPECT_DOUBLE_EQ(ShannonEntropy(""), 0.0);
}

TEST(Validators, DecodesStandardAndUrlSafeBase64) {
  EXPECT_EQ(DecodeBase64("aGVsbG8gd29ybGQ=").value_or("?"), "hello world");
  EXPECT_EQ(DecodeBase64("aGVsbG8gd29ybGQ").value_or("?"), "hello world");
  EXPECT_EQ(DecodeBase64("-_8").value_or("?"), "\xFB\xFF");
  EXPECT_FALSE(DecodeBase64("abc!").has_value());
  EXPECT_FALSE(DecodeBase64("a").has_value());
}

}  // namespace
}  // namespace warden::policies
