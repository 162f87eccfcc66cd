import { vendorSuite } from './test-support/vendor-suite'

vendorSuite({ name: 'platform fetch' })
