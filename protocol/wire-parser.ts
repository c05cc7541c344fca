/**
 * How socket.io frames messages on both hops: MessagePack instead of JSON. socket.io's default
 * parser sends a message that carries bytes (terminal output) as two websocket frames, a JSON
 * header and the binary attachment; MessagePack puts the bytes inline, so every message is one
 * frame, one write and one parse. Both ends of a hop must use the same parser.
 */
import parser from "socket.io-msgpack-parser";

export const WIRE_PARSER = parser;
