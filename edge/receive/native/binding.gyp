{
  "targets": [
    {
      "target_name": "udp_batch_reader",
      "sources": ["udp_batch_reader.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", { "type": "none" }]]
    }
  ]
}
