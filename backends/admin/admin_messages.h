#pragma once
// The admin API's bodies on the wire: JSON with the standard protobuf mapping unless the client
// speaks binary (Content-Type or Accept application/x-protobuf).

#include <google/protobuf/message.h>

#include <string>
#include <string_view>

namespace collage::admin {

inline constexpr std::string_view kProtobufType = "application/x-protobuf";

// Reads body into message as binary or JSON; false with error when it is neither.
bool decode_message(std::string_view body, bool binary, google::protobuf::Message& message,
                    std::string& error);
// The message as binary, or as indented JSON keeping the proto field names.
std::string encode_message(const google::protobuf::Message& message, bool binary);

}  // namespace collage::admin
