// placeholder until the rootfs/ layer lands
