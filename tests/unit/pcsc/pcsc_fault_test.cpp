// SPDX-License-Identifier: Apache-2.0
// PC/SC status codes to FaultCode. The numbers are the PC/SC v2 part 5 / winerror.h values that
// pcsc-lite's pcsclite.h also uses; written out here because only cardlib's adapter includes
// <winscard.h>.

#include <unioncard/card/pcsc/pcsc.hpp>

#include <gtest/gtest.h>

#include <cstdio>

using unioncard::card::FaultCode;
using unioncard::card::pcsc::faultFromStatus;

namespace {
std::string hexText(long status) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08lX", status);
    return text;
}
struct Case {
    long status;
    FaultCode code;
    const char* name;
};
} // namespace

TEST(PcscFault, EveryEnvironmentStatusMapsToItsTypedCode) {
    const Case cases[] = {
        {0x8010001D, FaultCode::ServiceDown, "SCARD_E_NO_SERVICE"},
        {0x8010001E, FaultCode::ServiceDown, "SCARD_E_SERVICE_STOPPED"},
        {0x80100013, FaultCode::ServiceDown, "SCARD_F_COMM_ERROR"},
        {0x8010002E, FaultCode::NoReader, "SCARD_E_NO_READERS_AVAILABLE"},
        {0x80100009, FaultCode::NoReader, "SCARD_E_UNKNOWN_READER"},
        {0x80100017, FaultCode::ReaderRemoved, "SCARD_E_READER_UNAVAILABLE"},
        {0x8010000C, FaultCode::NoCard, "SCARD_E_NO_SMARTCARD"},
        {0x80100069, FaultCode::CardRemoved, "SCARD_W_REMOVED_CARD"},
        {0x80100067, FaultCode::CardUnpowered, "SCARD_W_UNPOWERED_CARD"},
        {0x80100066, FaultCode::CardUnpowered, "SCARD_W_UNRESPONSIVE_CARD"},
        {0x80100068, FaultCode::CardUnpowered, "SCARD_W_RESET_CARD"},
        {0x80100016, FaultCode::CardUnpowered, "SCARD_E_NOT_TRANSACTED"},
        {0x8010000B, FaultCode::ReaderBusy, "SCARD_E_SHARING_VIOLATION"},
        {0x8010000A, FaultCode::Timeout, "SCARD_E_TIMEOUT"},
        {0x80100002, FaultCode::Cancelled, "SCARD_E_CANCELLED"},
        {0x8010000F, FaultCode::ProtocolError, "SCARD_E_PROTO_MISMATCH"},
        {0x80100065, FaultCode::ProtocolError, "SCARD_W_UNSUPPORTED_CARD"},
        {0x80100003, FaultCode::Unknown, "SCARD_E_INVALID_HANDLE"},
        {0x80100001, FaultCode::Unknown, "SCARD_F_INTERNAL_ERROR"},
    };
    for (const auto& c : cases) {
        const auto fault = faultFromStatus(c.status, "SCardTest");
        EXPECT_EQ(fault.code, c.code) << c.name << " mapped to " << toString(fault.code);
        EXPECT_NE(fault.message.find("SCardTest: "), std::string::npos) << fault.message;
        EXPECT_NE(fault.message.find(hexText(c.status)), std::string::npos) << fault.message;
    }
}

TEST(PcscFault, EveryCodeHasANameAndWhatToDo) {
    for (int i = 0; i <= static_cast<int>(FaultCode::Unknown); ++i) {
        const auto code = static_cast<FaultCode>(i);
        EXPECT_FALSE(toString(code).empty());
        EXPECT_GT(actionFor(code).size(), 10u) << toString(code);
    }
    EXPECT_EQ(toString(FaultCode::CardRemoved), "card-removed");
}
