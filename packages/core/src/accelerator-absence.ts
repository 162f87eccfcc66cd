import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { AcceleratorAbsence, ExecutionProvider } from './device'

/**
 * Why an accelerator cannot start on this machine, from files alone (no native code is loaded): what `auto`
 * skips without trying, so a server without a GPU neither waits for a doomed probe nor gets the native
 * libraries' warnings on its stderr.
 * - cuda: onnxruntime-node's CUDA provider library is not in its folder (its install script downloads it from
 *   outside the npm registry, with `ONNXRUNTIME_NODE_INSTALL_CUDA=v12` or `v13`).
 * - webgpu on Linux: no Vulkan loader (`libvulkan.so.1`), which Dawn needs to find any adapter.
 */
export function acceleratorAbsence(
  platform: NodeJS.Platform = process.platform,
  env: Readonly<Record<string, string | undefined>> = process.env,
): AcceleratorAbsence {
  return (provider: ExecutionProvider) => {
    if (provider === 'cuda') {
      const library =
        platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'
      const folder = onnxruntimeBinaryFolder(platform)
      if (folder !== undefined && !existsSync(join(folder, library))) {
        return 'its provider libraries are not installed (ONNXRUNTIME_NODE_INSTALL_CUDA=v12 at install)'
      }
    }
    if (provider === 'webgpu' && platform === 'linux' && !hasVulkanLoader(env)) {
      return 'no Vulkan loader (libvulkan.so.1): install libvulkan1 and the GPU vendor Vulkan driver'
    }
    return undefined
  }
}

/** onnxruntime-node's native folder for this platform, where its provider libraries are installed. */
function onnxruntimeBinaryFolder(platform: NodeJS.Platform): string | undefined {
  try {
    const packageJson = createRequire(import.meta.url).resolve('onnxruntime-node/package.json')
    return join(dirname(packageJson), 'bin', 'napi-v6', platform, process.arch)
  } catch {
    return undefined
  }
}

/** The folders the dynamic loader searches: LD_LIBRARY_PATH, ld.so.conf's folders, the standard ones. */
function loaderFolders(env: Readonly<Record<string, string | undefined>>): string[] {
  const folders = (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)
  try {
    for (const file of readdirSync('/etc/ld.so.conf.d')) {
      if (!file.endsWith('.conf')) continue
      for (const line of readFileSync(join('/etc/ld.so.conf.d', file), 'utf8').split('\n')) {
        const folder = line.trim()
        if (folder.startsWith('/')) folders.push(folder)
      }
    }
  } catch {
    // No ld.so.conf.d (a minimal image): the standard folders below still count.
  }
  const arch = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu'
  folders.push(
    `/usr/lib/${arch}`,
    `/lib/${arch}`,
    '/usr/lib64',
    '/lib64',
    '/usr/lib',
    '/lib',
    '/usr/local/lib',
  )
  return folders
}

function hasVulkanLoader(env: Readonly<Record<string, string | undefined>>): boolean {
  return loaderFolders(env).some((folder) => existsSync(join(folder, 'libvulkan.so.1')))
}
