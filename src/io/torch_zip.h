/* pytorch_model.bin as torch.save writes it since PyTorch 1.6: a zip archive
 * whose entries share one top folder <archive>/ ("pytorch_model", "archive",
 * ...): data.pkl, the pickled state dict (see pickle.h); data/<key>, the raw
 * little-endian bytes of each storage; version; and, in recent versions,
 * byteorder. The older tar and bare-pickle formats are recognised and
 * refused with a message saying so. */
#ifndef ELANG_IO_TORCH_ZIP_H
#define ELANG_IO_TORCH_ZIP_H

#include "io/tensor_file.h"

/* Reads the state dict and every storage it uses into buffers that *out
 * owns. Tensors must be contiguous and lie inside their storage. */
elang_status torch_zip_open(const char *path, tensor_file *out, elang_error *err);

#endif
