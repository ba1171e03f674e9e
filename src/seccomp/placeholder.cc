// placeholder until the seccomp/ layer lands
