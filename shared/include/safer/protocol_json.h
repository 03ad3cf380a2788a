// Protocol messages as JSON text frames (protocol.md §1).
//
// Decoding follows protocol.md §9.2: a problem with the envelope (not JSON, not an object, unknown
// `type`, a field of the wrong type, `changes` not 1..1000 objects, `seq` not a positive
// integer, `limit` outside 1..1000) fails the whole message with code "bad_message"; a
// problem inside one change (entity, op, id, hlc, data) refuses that change alone.
#pragma once

#include <string>
#include <string_view>

#include "safer/protocol.h"
#include "safer/result.h"

namespace safer {

std::string to_json(const Hello& message);
std::string to_json(const Push& message);
std::string to_json(const Pull& message);
std::string to_json(const Welcome& message);
std::string to_json(const Ack& message);
std::string to_json(const ChangesPage& message);
std::string to_json(const ErrorMessage& message);

// What a server reads. Errors have code "bad_message" and a message naming the field.
Result<ClientMessage> decode_client_message(std::string_view text);

// What a device reads. Errors have code "bad_message".
Result<ServerMessage> decode_server_message(std::string_view text);

}  // namespace safer
