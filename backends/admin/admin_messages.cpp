#include "admin_messages.h"

#include <google/protobuf/util/json_util.h>

namespace collage::admin {

bool decode_message(std::string_view body, bool binary, google::protobuf::Message& message,
                    std::string& error) {
  if (binary) {
    if (!message.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      error = "the body is not a binary " + message.GetTypeName() + " message";
      return false;
    }
    return true;
  }
  const google::protobuf::util::Status status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(body.data(), body.size()), &message);
  if (!status.ok()) {
    error =
        "the body is not a JSON " + message.GetTypeName() + ": " + std::string(status.message());
    return false;
  }
  return true;
}

std::string encode_message(const google::protobuf::Message& message, bool binary) {
  if (binary) {
    return message.SerializeAsString();
  }
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

}  // namespace collage::admin
