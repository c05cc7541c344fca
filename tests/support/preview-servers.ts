/**
 * Servers a test starts inside a student's environment to preview: a websocket echo in the
 * image's own Python, and the way to leave one running after the exec that started it.
 */

/** A websocket server in a dozen lines of the image's Python: answers one message with "echo:" before it. */
export const websocketEchoScript = (port: number) => `
import base64, hashlib, socket
server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", ${port})); server.listen()
while True:
    client, _ = server.accept(); request = b""
    while b"\\r\\n\\r\\n" not in request: request += client.recv(4096)
    key = [line.split(b":", 1)[1].strip() for line in request.split(b"\\r\\n") if line.lower().startswith(b"sec-websocket-key")][0]
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    client.sendall(b"HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: " + accept + b"\\r\\n\\r\\n")
    header = client.recv(2); size = header[1] & 127; mask = client.recv(4); payload = bytearray(client.recv(size))
    for i in range(size): payload[i] ^= mask[i % 4]
    reply = b"echo:" + bytes(payload); client.sendall(bytes([0x81, len(reply)]) + reply); client.close()
`;

/** A server that outlives the exec that started it (its own session, away from the exec's terminal). */
export const inBackground = (command: string) => `setsid -f ${command} >/dev/null 2>&1 < /dev/null; sleep 1`;
