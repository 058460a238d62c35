// SPDX-License-Identifier: Apache-2.0
// The libnfc adapter without a reader: the ATR it builds from an ATS (PC/SC part 3 v2.02.00
// §3.1.3.2.3.1, the same as pcscd's) and its mapping of libnfc's error codes (nfc.h).

#include <unioncard/card/nfc/libnfc.hpp>

#include <gtest/gtest.h>

namespace nfc = unioncard::card::nfc;
using unioncard::card::Bytes;
using unioncard::card::FaultCode;

namespace {

TEST(LibnfcAtr, DesfireAtsGivesThePcscAtr) {
    // DESFire EV1/EV2 ATS 06 75 77 81 02 80: T0 75 announces TA, TB, TC; historical byte 80.
    EXPECT_EQ(nfc::atrFromAts(Bytes{0x75, 0x77, 0x81, 0x02, 0x80}),
              (Bytes{0x3B, 0x81, 0x80, 0x01, 0x80, 0x80}));
}

TEST(LibnfcAtr, HistoricalBytesFollowOnlyTheInterfaceBytesT0Announces) {
    // T0 = 0x68: TB and TC only (no TA), then "JCOP" style historical bytes 80 31.
    const Bytes atr = nfc::atrFromAts(Bytes{0x68, 0x81, 0x02, 0x80, 0x31});
    EXPECT_EQ(atr, (Bytes{0x3B, 0x82, 0x80, 0x01, 0x80, 0x31, 0x82 ^ 0x80 ^ 0x01 ^ 0x80 ^ 0x31}));
}

TEST(LibnfcAtr, NoAtsGivesNoHistoricalBytes) {
    EXPECT_EQ(nfc::atrFromAts(Bytes{}), (Bytes{0x3B, 0x80, 0x80, 0x01, 0x01}));
}

TEST(LibnfcFault, ErrorCodesMapToFaults) {
    // nfc.h: NFC_EIO -1, NFC_ENOTSUCHDEV -4, NFC_EOVFLOW -5, NFC_ETIMEOUT -6, NFC_EOPABORTED -7,
    // NFC_ETGRELEASED -10, NFC_ERFTRANS -20, NFC_EMFCAUTHFAIL -30, NFC_ECHIP -90.
    EXPECT_EQ(nfc::faultFromError(-1, "x").code, FaultCode::ReaderRemoved);
    EXPECT_EQ(nfc::faultFromError(-4, "x").code, FaultCode::NoReader);
    EXPECT_EQ(nfc::faultFromError(-5, "x").code, FaultCode::ProtocolError);
    EXPECT_EQ(nfc::faultFromError(-6, "x").code, FaultCode::Timeout);
    EXPECT_EQ(nfc::faultFromError(-7, "x").code, FaultCode::Cancelled);
    EXPECT_EQ(nfc::faultFromError(-10, "x").code, FaultCode::CardRemoved);
    EXPECT_EQ(nfc::faultFromError(-20, "x").code, FaultCode::CardRemoved);
    EXPECT_EQ(nfc::faultFromError(-30, "x").code, FaultCode::CardError);
    EXPECT_EQ(nfc::faultFromError(-90, "x").code, FaultCode::Unknown);
    const auto f = nfc::faultFromError(-6, "nfc_initiator_transceive_bytes", "Operation timed-out");
    EXPECT_EQ(f.message, "nfc_initiator_transceive_bytes: Operation timed-out (NFC_ETIMEOUT, -6)");
}

} // namespace
