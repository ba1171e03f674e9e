// placeholder until the linux/ layer lands
